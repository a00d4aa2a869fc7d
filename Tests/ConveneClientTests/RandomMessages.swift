@testable import ConveneClient
import Foundation
import SwiftProtobuf

/// Random, valid binary messages of any type a pool describes, from a seed: every field kind,
/// packed and unpacked repetition, maps, oneofs, and well-known types with values in range.
struct RandomMessages {
    let pool: DescriptorPool
    var generator: SeededGenerator

    init(pool: DescriptorPool, seed: UInt64) {
        self.pool = pool
        self.generator = SeededGenerator(seed: seed)
    }

    mutating func bytes(of type: String, depth: Int = 0) -> [UInt8] {
        var writer = WireWriter()
        let key = DescriptorPool.key(type)
        if let known = WellKnownType(rawValue: key) {
            wellKnown(known, into: &writer, depth: depth)
            return writer.bytes
        }
        guard let message = pool.messages[key] else { return [] }
        var chosenOneofs: Set<Int32> = []
        // A map entry always has both its key and its value (a google.protobuf.Value without
        // one would not be valid JSON).
        for field in message.field where message.options.mapEntry || Int.random(in: 0..<3, using: &generator) != 0 {
            if field.hasOneofIndex {
                guard chosenOneofs.insert(field.oneofIndex).inserted else { continue }
            }
            let isMap = pool.isMapEntry(field.typeName)
            let count = field.label == .repeated ? Int.random(in: 0...3, using: &generator) : 1
            if field.label == .repeated, !isMap, isPackable(field), count > 0, Bool.random(using: &generator) {
                var packed = WireWriter()
                for _ in 0..<count { scalar(field, into: &packed) }
                writer.tag(UInt32(field.number), 2)
                writer.lengthDelimited(packed.bytes)
                continue
            }
            for _ in 0..<count {
                if field.type == .message {
                    // Nesting stops at a depth (a recursive message would never end).
                    guard depth < 3 || WellKnownType(rawValue: DescriptorPool.key(field.typeName)) != nil else { continue }
                    writer.tag(UInt32(field.number), 2)
                    writer.lengthDelimited(bytes(of: field.typeName, depth: depth + 1))
                } else {
                    writer.tag(UInt32(field.number), wire(field))
                    scalar(field, into: &writer)
                }
            }
        }
        return writer.bytes
    }

    func isPackable(_ field: Google_Protobuf_FieldDescriptorProto) -> Bool {
        ![.string, .bytes, .message, .group].contains(field.type)
    }

    func wire(_ field: Google_Protobuf_FieldDescriptorProto) -> UInt32 {
        switch field.type {
        case .fixed32, .sfixed32, .float: 5
        case .fixed64, .sfixed64, .double: 1
        case .string, .bytes, .message: 2
        default: 0
        }
    }

    static let strings = ["", "plain", "with \"quotes\" and \\ backslash", "tab\tnewline\ncontrol\u{01}", "Unicode ☺ and 😈",
                          "Résolution 1353 (2001)", "/slashes/", "\u{7F}\u{80}"]

    mutating func scalar(_ field: Google_Protobuf_FieldDescriptorProto, into writer: inout WireWriter) {
        let extremes: [Int64] = [0, 1, -1, Int64(Int32.max), Int64(Int32.min), .max, .min]
        func int64() -> Int64 { Bool.random(using: &generator) ? extremes.randomElement(using: &generator)! : Int64.random(in: -100_000...100_000, using: &generator) }
        func uint64() -> UInt64 { Bool.random(using: &generator) ? [0, 1, UInt64(UInt32.max), .max].randomElement(using: &generator)! : UInt64.random(in: 0...100_000, using: &generator) }
        func real() -> Double {
            [0, -0.0, 1.5, -2.25, 1e-7, 3.4e38, 1e300, 0.1, Double.random(in: -1e6...1e6, using: &generator)].randomElement(using: &generator)!
        }
        switch field.type {
        case .string: writer.lengthDelimited(Array(Self.strings.randomElement(using: &generator)!.utf8))
        case .bytes: writer.lengthDelimited((0..<Int.random(in: 0...12, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) })
        case .bool: writer.varint(Bool.random(using: &generator) ? 1 : 0)
        case .int32: writer.varint(UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: int64()))))
        case .sint32:
            let v = Int32(truncatingIfNeeded: int64())
            writer.varint(UInt64(UInt32(bitPattern: (v << 1) ^ (v >> 31))))
        case .uint32: writer.varint(UInt64(UInt32(truncatingIfNeeded: uint64())))
        case .int64: writer.varint(UInt64(bitPattern: int64()))
        case .sint64:
            let v = int64()
            writer.varint(UInt64(bitPattern: (v << 1) ^ (v >> 63)))
        case .uint64: writer.varint(uint64())
        case .fixed32: writer.fixed32(UInt32(truncatingIfNeeded: uint64()))
        case .sfixed32: writer.fixed32(UInt32(bitPattern: Int32(truncatingIfNeeded: int64())))
        case .fixed64: writer.fixed64(uint64())
        case .sfixed64: writer.fixed64(UInt64(bitPattern: int64()))
        case .float:
            let v = Float(real())
            writer.fixed32((v.isFinite ? v : 1).bitPattern)
        case .double: writer.fixed64(real().bitPattern)
        case .enum:
            let values = pool.enums[DescriptorPool.key(field.typeName)]?.value.map(\.number) ?? [0]
            writer.varint(UInt64(bitPattern: Int64(values.randomElement(using: &generator) ?? 0)))
        case .message, .group: break
        }
    }

    mutating func wellKnown(_ type: WellKnownType, into writer: inout WireWriter, depth: Int) {
        switch type {
        case .timestamp:
            writer.tag(1, 0); writer.varint(UInt64(bitPattern: Int64.random(in: ProtoTime.minSeconds...ProtoTime.maxSeconds, using: &generator)))
            writer.tag(2, 0); writer.varint(UInt64([0, 21_000_000, 1_000, 999_999_999, 5].randomElement(using: &generator)!))
        case .duration:
            let seconds = Int64.random(in: -1_000_000...1_000_000, using: &generator)
            let nanos = Int64([0, 340_012, 500_000_000].randomElement(using: &generator)!) * (seconds < 0 ? -1 : 1)
            writer.tag(1, 0); writer.varint(UInt64(bitPattern: seconds))
            writer.tag(2, 0); writer.varint(UInt64(bitPattern: nanos))
        case .structValue:
            for key in ["a", "b c", "ünï"] where Bool.random(using: &generator) {
                var entry = WireWriter()
                entry.tag(1, 2); entry.lengthDelimited(Array(key.utf8))
                var value = WireWriter()
                wellKnown(.value, into: &value, depth: depth + 1)
                entry.tag(2, 2); entry.lengthDelimited(value.bytes)
                writer.tag(1, 2); writer.lengthDelimited(entry.bytes)
            }
        case .listValue:
            for _ in 0..<Int.random(in: 0...3, using: &generator) {
                var value = WireWriter()
                wellKnown(.value, into: &value, depth: depth + 1)
                writer.tag(1, 2); writer.lengthDelimited(value.bytes)
            }
        case .value:
            switch Int.random(in: 0..<(depth < 3 ? 6 : 4), using: &generator) {
            case 0: writer.tag(1, 0); writer.varint(0)
            case 1: writer.tag(2, 1); writer.fixed64([0, 1.5, -3, 1e20].randomElement(using: &generator)!.bitPattern)
            case 2: writer.tag(3, 2); writer.lengthDelimited(Array(Self.strings.randomElement(using: &generator)!.utf8))
            case 3: writer.tag(4, 0); writer.varint(Bool.random(using: &generator) ? 1 : 0)
            case 4:
                var sub = WireWriter(); wellKnown(.structValue, into: &sub, depth: depth + 1)
                writer.tag(5, 2); writer.lengthDelimited(sub.bytes)
            default:
                var sub = WireWriter(); wellKnown(.listValue, into: &sub, depth: depth + 1)
                writer.tag(6, 2); writer.lengthDelimited(sub.bytes)
            }
        case .fieldMask:
            for path in ["a_b", "c.d_e"] where Bool.random(using: &generator) {
                writer.tag(1, 2); writer.lengthDelimited(Array(path.utf8))
            }
        case .any:
            guard pool.messages["convene.testfixture.v1.Nested"] != nil else { return }
            writer.tag(1, 2); writer.lengthDelimited(Array("type.googleapis.com/convene.testfixture.v1.Nested".utf8))
            writer.tag(2, 2); writer.lengthDelimited(bytes(of: "convene.testfixture.v1.Nested", depth: depth + 1))
        case .empty, .nullValue:
            break
        default:
            guard let field = type.wrapped else { return }
            writer.tag(1, wire(field))
            scalar(field, into: &writer)
        }
    }
}

/// A small deterministic generator (SplitMix64), so a failing seed can be replayed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
