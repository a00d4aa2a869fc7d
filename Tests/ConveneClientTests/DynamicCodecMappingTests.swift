@testable import ConveneClient
import ConveneMessages
import Foundation
import SwiftProtobuf
import XCTest

/// The corners of protobuf's JSON mapping, one by one, and the errors that name what is wrong.
final class DynamicCodecMappingTests: XCTestCase {
    let codec = DynamicCodec(pool: DynamicCodecConformanceTests.fixturePool)
    let everything = "convene.testfixture.v1.Everything"

    func read(_ json: String) throws -> Convene_Testfixture_V1_Everything {
        try Convene_Testfixture_V1_Everything(serializedBytes: try codec.binary(from: try JSONValue.parse(json), type: everything))
    }

    func print(_ message: Convene_Testfixture_V1_Everything) throws -> JSONValue {
        try codec.json(from: try message.serializedBytes(), type: everything)
    }

    func refusal(_ json: String) -> String {
        do {
            _ = try read(json)
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    func testIntegersAreNeverBooleans() throws {
        // On Linux, Foundation's JSON reads 1 as a Bool too: the bug this codec was rewritten for.
        XCTAssertEqual(try read(#"{"anInt32": 1, "aUint32": 0, "anInt64": 1}"#).anInt32, 1)
        XCTAssertEqual(try read(#"{"aBool": true}"#).aBool, true)
        XCTAssertTrue(refusal(#"{"aBool": 1}"#).contains("must be true or false"))
        XCTAssertTrue(refusal(#"{"anInt32": true}"#).contains("must be an integer"))
    }

    func testIntegersAsNumbersOrStringsWholeAndInRange() throws {
        let m = try read(#"{"anInt32": "-7", "anInt64": "9223372036854775807", "aUint64": 18446744073709551615,"# +
                         #" "aSint32": 1.0, "aFixed32": 1e3, "anSfixed64": "-9223372036854775808"}"#)
        XCTAssertEqual(m.anInt32, -7)
        XCTAssertEqual(m.anInt64, .max, "64-bit integers survive (no trip through Double)")
        XCTAssertEqual(m.aUint64, .max)
        XCTAssertEqual(m.aSint32, 1)
        XCTAssertEqual(m.aFixed32, 1000)
        XCTAssertEqual(m.anSfixed64, .min)
        XCTAssertTrue(refusal(#"{"anInt32": 2147483648}"#).contains("is not an integer in"))
        XCTAssertTrue(refusal(#"{"aUint32": -1}"#).contains("is not an integer in"))
        XCTAssertTrue(refusal(#"{"anInt32": 1.5}"#).contains("is not an integer in"))
        XCTAssertEqual(try print(.with { $0.anInt64 = -5; $0.aUint64 = 6 })["anInt64"], .string("-5"), "64-bit integers print as strings")
    }

    func testFloatsAndSpecialValues() throws {
        let m = try read(#"{"aDouble": "NaN", "aFloat": "-Infinity", "doubles": [1.5, "2.5", "Infinity", 1e-300]}"#)
        XCTAssertTrue(m.aDouble.isNaN)
        XCTAssertEqual(m.aFloat, -.infinity)
        XCTAssertEqual(m.doubles, [1.5, 2.5, .infinity, 1e-300])
        XCTAssertEqual(try print(.with { $0.aDouble = .nan })["aDouble"], .string("NaN"))
        XCTAssertTrue(refusal(#"{"aFloat": 1e39}"#).contains("beyond a float's range"))
        XCTAssertTrue(refusal(#"{"aDouble": "fast"}"#).contains("is not a finite number"))
    }

    func testBytesStandardOrURLSafePaddedOrNot() throws {
        for text in ["+/8=", "+/8", "-_8=", "-_8"] {
            XCTAssertEqual(try read(#"{"someBytes": "\#(text)"}"#).someBytes, Data([0xFB, 0xFF]), text)
        }
        XCTAssertTrue(refusal(#"{"someBytes": "a=b"}"#).contains("base64"))
    }

    func testEnumsByNameOrNumber() throws {
        XCTAssertEqual(try read(#"{"aColor": "GREEN", "colors": ["RED", 2]}"#).colors, [.red, .green])
        XCTAssertTrue(refusal(#"{"aColor": "PURPLE"}"#).contains("'PURPLE' is not one of COLOR_UNSPECIFIED, RED, GREEN"))
    }

    func testFieldNamesJSONOrProtoAndUnknownsRefused() throws {
        XCTAssertEqual(try read(#"{"an_int32": 4}"#).anInt32, 4)
        XCTAssertTrue(refusal(#"{"anInt33": 4}"#).contains("has no field 'anInt33'"))
    }

    func testNullMeansDefault() throws {
        XCTAssertEqual(try read(#"{"anInt32": null, "aNested": null, "strings": null}"#), Convene_Testfixture_V1_Everything())
    }

    func testPresenceAndOneofs() throws {
        XCTAssertEqual(try print(.with { $0.optionalInt32 = 0 })["optionalInt32"], .number("0"), "explicit presence prints the default")
        XCTAssertNil(try print(.with { $0.anInt32 = 0 })["anInt32"], "implicit presence omits it")
        XCTAssertTrue(refusal(#"{"chosenString": "a", "chosenInt64": "1"}"#).contains("members of one oneof"))
    }

    func testMapsWithEveryKeyType() throws {
        let m = try read(#"{"byBool": {"true": "RED"}, "byInt64": {"-3": {"number": 1}}, "byUint32": {"7": true}}"#)
        XCTAssertEqual(m.byBool, [true: .red])
        XCTAssertEqual(m.byInt64[-3]?.number, 1)
        XCTAssertTrue(refusal(#"{"byBool": {"yes": "RED"}}"#).contains("is not true or false"))
    }

    func testTimestampsAndDurations() throws {
        let m = try read(#"{"aTimestamp": "1972-01-01T10:00:20.021+01:00", "aDuration": "-1.000340012s"}"#)
        XCTAssertEqual(m.aTimestamp.seconds, 63_108_020 - 3600)
        XCTAssertEqual(m.aTimestamp.nanos, 21_000_000)
        XCTAssertEqual(m.aDuration.seconds, -1)
        XCTAssertEqual(m.aDuration.nanos, -340_012)
        let printed = try print(m)
        XCTAssertEqual(printed["aTimestamp"], .string("1972-01-01T09:00:20.021Z"))
        XCTAssertEqual(printed["aDuration"], .string("-1.000340012s"))
        XCTAssertTrue(refusal(#"{"aTimestamp": "10000-01-01T00:00:00Z"}"#).contains("RFC 3339"))
        XCTAssertTrue(refusal(#"{"aTimestamp": "2001-02-29T00:00:00Z"}"#).contains("RFC 3339"))
        XCTAssertTrue(refusal(#"{"aDuration": "1.5"}"#).contains("Duration"))
    }

    func testWrappersStructsValuesMasksAndAny() throws {
        let m = try read(#"""
            {"anInt32Value": 0, "aStringValue": "x", "aBoolValue": false, "anInt64Value": "12",
             "aStruct": {"a": [1, "two", null, {"b": true}]}, "aValue": null, "aListValue": [1, 2],
             "aFieldMask": "aB.cD,e", "anEmpty": {}, "aNullValue": null,
             "anAny": {"@type": "type.googleapis.com/convene.testfixture.v1.Nested", "number": 5}}
            """#)
        XCTAssertTrue(m.hasAnInt32Value, "a wrapper holding 0 is present")
        XCTAssertEqual(m.anInt64Value.value, 12)
        XCTAssertEqual(m.aStruct.fields["a"]?.listValue.values.count, 4)
        XCTAssertEqual(m.aValue.kind, .nullValue(.nullValue))
        XCTAssertEqual(m.aFieldMask.paths, ["a_b.c_d", "e"])
        XCTAssertEqual(try Convene_Testfixture_V1_Nested(unpackingAny: m.anAny).number, 5)
        let printed = try print(m)
        XCTAssertEqual(printed["anInt32Value"], .number("0"))
        XCTAssertEqual(printed["aFieldMask"], .string("aB.cD,e"))
        XCTAssertEqual(printed["anAny"]?["@type"], .string("type.googleapis.com/convene.testfixture.v1.Nested"))
        XCTAssertEqual(printed["anAny"]?["number"], .number("5"))
        XCTAssertTrue(refusal(#"{"anAny": {"@type": "type.googleapis.com/x.Unknown"}}"#).contains("did not describe"))
    }

    func testMalformedBinaryIsNamedNotTrapped() {
        XCTAssertThrowsError(try codec.json(from: [0x0A, 0x05, 0x01], type: everything))
        XCTAssertThrowsError(try codec.json(from: [0x18], type: everything))
        XCTAssertThrowsError(try codec.json(from: [0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], type: everything))
        XCTAssertThrowsError(try codec.json(from: [0x0D, 0x01], type: everything), "a double field with a 32-bit wire type") {
            XCTAssertTrue("\($0)".contains("wire type"), "\($0)")
        }
        // Deep nesting is refused, not recursed into without end.
        var bytes: [UInt8] = []
        for _ in 0..<200 { bytes = [0x1A] + varint(bytes.count) + bytes }  // Nested.children, 200 deep
        XCTAssertThrowsError(try codec.json(from: [0x8A, 0x01] + varint(bytes.count) + bytes, type: everything)) {
            XCTAssertTrue("\($0)".contains("nested more than"), "\($0)")
        }
    }

    func varint(_ n: Int) -> [UInt8] {
        var v = UInt64(n), out: [UInt8] = []
        while v >= 0x80 { out.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        return out + [UInt8(v)]
    }
}

final class JSONValueTests: XCTestCase {
    func testParsesAndWritesRFC8259() throws {
        let value = try JSONValue.parse(#" {"a": [1, -2.5e3, true, false, null, "x\"y\u00e9\ud83d\ude08"]} "#)
        XCTAssertEqual(value["a"], .array([.number("1"), .number("-2.5e3"), .bool(true), .bool(false), .null, .string("x\"yé😈")]))
        XCTAssertEqual(try JSONValue.parse(value.text), value)
        XCTAssertEqual(JSONValue.string("tab\t\u{01}").text, #""tab\t\u0001""#)
    }

    func testRefusesWhatIsNotJSON() {
        for bad in ["", "{", "[1,]", "{\"a\":1,}", "01", "1.", "-", "\"\\x\"", "\"\u{01}\"", "{\"a\":1,\"a\":2}", "nul", "1 2",
                    "\"\\ud83d\"", String(repeating: "[", count: 200) + String(repeating: "]", count: 200)] {
            XCTAssertThrowsError(try JSONValue.parse(bad), bad)
        }
    }

    func testSequences() throws {
        XCTAssertEqual(try JSONValue.parseSequence("{\"a\":1}\n{\"a\":2}\n").count, 2)
    }
}
