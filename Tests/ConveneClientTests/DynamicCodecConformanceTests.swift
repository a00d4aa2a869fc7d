@testable import ConveneClient
import ConveneMessages
import ConveneProtos
import Foundation
import SwiftProtobuf
import XCTest

/// The dynamic codec against swift-protobuf's own JSON coding: for every message of Protos/
/// and a fixture with every kind of field, random valid messages must print as swift-protobuf
/// prints them, and swift-protobuf's JSON must read back to the same message.
final class DynamicCodecConformanceTests: XCTestCase {
    static let protosPool = DescriptorPool(files: (try? Google_Protobuf_FileDescriptorSet(serializedBytes: ConveneDescriptorSet.bytes).file) ?? [])
    static let fixturePool = DescriptorPool(files: (try? Google_Protobuf_FileDescriptorSet(serializedBytes: FixtureDescriptorSet.bytes).file) ?? [])

    func testEveryMessageOfProtosAgreesWithSwiftProtobuf() throws {
        XCTAssertGreaterThan(ConveneMessageTypes.all.count, 150)
        for (name, type) in ConveneMessageTypes.all.sorted(by: { $0.key < $1.key }) {
            try check(type, name: name, pool: Self.protosPool, seeds: 0..<8)
        }
    }

    func testEveryKindOfFieldAgreesWithSwiftProtobuf() throws {
        // swift-protobuf prints an Any only when it knows the type inside.
        _ = Google_Protobuf_Any.register(messageType: Convene_Testfixture_V1_Nested.self)
        try check(Convene_Testfixture_V1_Everything.self, name: "convene.testfixture.v1.Everything",
                  pool: Self.fixturePool, seeds: 0..<300)
    }

    func check(_ type: any SwiftProtobuf.Message.Type, name: String, pool: DescriptorPool, seeds: Range<UInt64>) throws {
        let codec = DynamicCodec(pool: pool)
        for seed in seeds {
            var random = RandomMessages(pool: pool, seed: seed &* 7919 &+ UInt64(name.utf8.count))
            let bytes = random.bytes(of: name)
            let message = try type.init(serializedBytes: bytes, extensions: nil, partial: true, options: BinaryDecodingOptions())
            let reference = try JSONValue.parse(message.jsonString())
            let ours = try codec.json(from: bytes, type: name)
            XCTAssertTrue(sameJSON(ours, reference), "\(name), seed \(seed):\n ours \(ours.text)\n swift-protobuf \(reference.text)")
            // And back: swift-protobuf's JSON, read by the codec, is the same message.
            let back = try type.init(serializedBytes: try codec.binary(from: reference, type: name), extensions: nil,
                                     partial: true, options: BinaryDecodingOptions())
            // (Compared as swift-protobuf prints it: an Any holds bytes, which two encoders may order differently.)
            let printedBack = try JSONValue.parse(back.jsonString())
            XCTAssertTrue(back.isEqualTo(message: message) || sameJSON(printedBack, reference),
                          "\(name), seed \(seed): \(reference.text) did not read back")
        }
    }
}

/// JSON equality as protobuf's mapping means it: members in any order, numbers by value
/// (a float printed in fewer digits is the same float).
func sameJSON(_ a: JSONValue, _ b: JSONValue) -> Bool {
    switch (a, b) {
    case (.object(let x), .object(let y)):
        guard x.count == y.count else { return false }
        return x.allSatisfy { member in y.first { $0.key == member.key }.map { sameJSON(member.value, $0.value) } ?? false }
    case (.array(let x), .array(let y)):
        return x.count == y.count && zip(x, y).allSatisfy(sameJSON)
    case (.number(let x), .number(let y)):
        guard let dx = Double(x), let dy = Double(y) else { return x == y }
        return dx == dy || Float(dx) == Float(dy)
    default:
        return a == b
    }
}
