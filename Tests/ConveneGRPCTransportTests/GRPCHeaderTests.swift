@testable import ConveneGRPCTransport
import ConveneRPC
import ConveneWire
import NIOHPACK
import XCTest

final class GRPCHeaderTests: XCTestCase {
    func testTimeoutParsing() {
        XCTAssertEqual(GRPCTimeout.parseMicros("1S"), 1_000_000)
        XCTAssertEqual(GRPCTimeout.parseMicros("200m"), 200_000)
        XCTAssertEqual(GRPCTimeout.parseMicros("5u"), 5)
        XCTAssertEqual(GRPCTimeout.parseMicros("1500n"), 1)
        XCTAssertEqual(GRPCTimeout.parseMicros("1n"), 1, "a positive timeout never rounds to none")
        XCTAssertEqual(GRPCTimeout.parseMicros("2M"), 120_000_000)
        XCTAssertEqual(GRPCTimeout.parseMicros("99999999H"), CallStart.maxTimeoutMicros, "clamped, not trapped")
        for bad in ["", "S", "1", "123456789S", "1.5S", "-1S", "10x", "1 S", "１S"] {
            XCTAssertNil(GRPCTimeout.parseMicros(Substring(bad)), bad)
        }
        XCTAssertEqual(GRPCTimeout.format(micros: 1_500), "1500u")
        XCTAssertEqual(GRPCTimeout.parseMicros(Substring(GRPCTimeout.format(micros: 12_345_678_000))), 12_345_678_000)
        XCTAssertEqual(GRPCTimeout.format(micros: 123_456_789_000), "123456S", "8 digits at most: rounded down to the unit that fits")
    }

    func testStatusMessagePercentEncoding() {
        let message = "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈 and 100%\t\n"
        let encoded = GRPCStatusMessage.encode(message)
        XCTAssertTrue(encoded.utf8.allSatisfy { $0 >= 0x20 && $0 <= 0x7E })
        XCTAssertTrue(encoded.hasPrefix("%09%0Atest with whitespace%0D%0A"))
        XCTAssertTrue(encoded.contains("100%25"))
        XCTAssertEqual(GRPCStatusMessage.decode(encoded), message)
        XCTAssertEqual(GRPCStatusMessage.decode("50%"), "50%", "a cut escape is kept as written")
        XCTAssertEqual(GRPCStatusMessage.decode("%zz"), "%zz")
    }

    func headers(_ extra: [(String, String)] = [], te: Bool = true, contentType: String = "application/grpc",
                 method: String = "POST") -> HPACKHeaders {
        var list = [(":method", method), (":scheme", "http"), (":path", "/a.B/C"), (":authority", "x"),
                    ("content-type", contentType)]
        if te { list.append(("te", "trailers")) }
        return HPACKHeaders(list + extra)
    }

    func refusal(_ headers: HPACKHeaders) -> GRPCRequestHead.Refusal? {
        if case .failure(let refusal) = GRPCRequestHead.parse(headers) { return refusal }
        return nil
    }

    func testRequestHeadRefusalsInGRPCsOrder() {
        XCTAssertEqual(refusal(headers(method: "GET"))?.httpStatus, 405)
        XCTAssertEqual(refusal(headers(contentType: "application/json"))?.httpStatus, 415)
        XCTAssertEqual(refusal(headers(contentType: "application/grpc+json"))?.httpStatus, 415)
        XCTAssertEqual(refusal(headers(te: false))?.httpStatus, 400)
        XCTAssertEqual(refusal(headers([("grpc-timeout", "soon")]))?.error.code, .internal)
        let unsupported = refusal(headers([("grpc-encoding", "snappy")]))
        XCTAssertEqual(unsupported?.error.code, .unimplemented)
        XCTAssertTrue(unsupported?.error.message.contains("gzip") ?? false)
        XCTAssertEqual(refusal(headers([("x-bytes-bin", "%%%")]))?.error.code, .internal)
        XCTAssertEqual(refusal(headers([("x-text", "tab\there")]))?.error.code, .internal)
    }

    func testRequestHeadMetadataAndEncodings() throws {
        let parsed = try GRPCRequestHead.parse(headers([
            ("authorization", "Bearer abc"), ("x-bin", "AAEC"), ("x-bin", "AAECAw=="), ("grpc-timeout", "3S"),
            ("grpc-encoding", "deflate"), ("grpc-accept-encoding", "gzip, deflate"), ("grpc-previous-rpc-attempts", "1"),
        ])).get()
        XCTAssertEqual(parsed.path, "/a.B/C")
        XCTAssertEqual(parsed.timeoutMicros, 3_000_000)
        XCTAssertEqual(parsed.requestEncoding, .deflate)
        XCTAssertEqual(parsed.responseEncoding, .deflate, "answered in the client's own algorithm")
        XCTAssertEqual(parsed.metadata["authorization"], "Bearer abc")
        XCTAssertEqual(parsed.metadata.entries.filter { $0.key == "x-bin" }.map(\.value),
                       [.binary([0, 1, 2]), .binary([0, 1, 2, 3])], "unpadded and padded base64")
        XCTAssertFalse(parsed.metadata.contains { $0.key.hasPrefix("grpc-") || $0.key == "te" || $0.key.hasPrefix(":") })
        XCTAssertNil(parsed.responseEncoding(for: .never))
        XCTAssertEqual(parsed.responseEncoding(for: .whenNegotiated), .deflate)

        let plain = try GRPCRequestHead.parse(headers([("grpc-accept-encoding", "identity,deflate,gzip")])).get()
        XCTAssertNil(plain.responseEncoding(for: .whenNegotiated), "an uncompressed request gets uncompressed answers")
        XCTAssertEqual(plain.responseEncoding(for: .always), .gzip)
    }

    func testOutgoingMetadataCannotForgeReservedHeaders() {
        var metadata = Metadata()
        metadata.add("grpc-status", "0")
        metadata.add("x-ok", "yes")
        metadata.add("x-data-bin", binary: [0xAB, 0xAB, 0xAB])
        var headers = HPACKHeaders()
        GRPCMetadata.append(metadata, to: &headers)
        XCTAssertNil(headers.first(name: "grpc-status"))
        XCTAssertEqual(headers.first(name: "x-ok"), "yes")
        XCTAssertEqual(headers.first(name: "x-data-bin"), "q6ur")
    }
}
