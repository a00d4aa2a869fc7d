import ConveneClient
import ConveneProtos
import Foundation
import SwiftProtobuf
import XCTest

/// The descriptor-driven codec of `convene call` agrees with swift-protobuf's generated code.
final class DynamicCodecTests: XCTestCase {
    let codec: DynamicCodec = {
        let set = try! Google_Protobuf_FileDescriptorSet(serializedBytes: ConveneDescriptorSet.bytes)
        return DynamicCodec(pool: DescriptorPool(files: set.file))
    }()

    var meeting: Convene_Consultation_V1_Meeting {
        .with {
            $0.id = "mtg-7"
            $0.form = .consultationMeeting
            $0.public = true
            $0.stage = .rapidDeterioration
            $0.scheduledTime = .init(seconds: 1_800_000_000)
            $0.invitations = [.with { $0.partyID = "party-3"; $0.category = .hostCountryObserver; $0.role = .observer },
                              .with { $0.partyID = "party-4"; $0.required = true }]
            $0.topics = [.with { $0.kind = .operationalIssues; $0.description_p = "Force protection ☺" }]
            $0.informalPaper = .with { $0.agenda = "1. Situation"; $0.issues = ["a", "b"] }
            $0.statements = [.with { $0.text = "tab\there"; $0.concern = true }]
        }
    }

    func testBinaryToJSONMatchesTheJSONMapping() throws {
        let json = try codec.json(from: try meeting.serializedBytes(), type: "convene.consultation.v1.Meeting")
        let expected = try JSONSerialization.jsonObject(with: Data(try meeting.jsonString().utf8))
        XCTAssertEqual(json as? NSDictionary, expected as? NSDictionary)
    }

    func testJSONToBinaryDecodesToTheSameMessage() throws {
        let json = try JSONSerialization.jsonObject(with: Data(try meeting.jsonString().utf8))
        let bytes = try codec.binary(from: json, type: "convene.consultation.v1.Meeting")
        XCTAssertEqual(try Convene_Consultation_V1_Meeting(serializedBytes: bytes), meeting)
        let numbers = try codec.binary(from: ["count": 3, "size": "64"], type: "convene.benchmark.v1.StreamRequest")
        XCTAssertEqual(try Convene_Benchmark_V1_StreamRequest(serializedBytes: numbers), .with { $0.count = 3; $0.size = 64 })
    }

    func testBadJSONIsNamed() {
        XCTAssertThrowsError(try codec.binary(from: ["stage": "LATER"], type: "convene.consultation.v1.Meeting")) {
            XCTAssertTrue("\($0)".contains("'LATER' is not one of"), "\($0)")
        }
        XCTAssertThrowsError(try codec.binary(from: ["public": "yes"], type: "convene.consultation.v1.Meeting"))
        XCTAssertThrowsError(try codec.json(from: [0x0A, 0x05, 0x01], type: "convene.consultation.v1.Meeting"))
    }
}
