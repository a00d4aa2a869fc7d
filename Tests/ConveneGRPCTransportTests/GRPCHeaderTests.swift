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

    /// The HTTP status and gRPC status a request is answered with, or nil.
    func answer(_ headers: HPACKHeaders) -> (httpStatus: Int, error: RPCError)? {
        if case .failure(.answer(let status, let error)) = GRPCRequestHead.parse(headers) { return (status, error) }
        return nil
    }

    func malformed(_ headers: HPACKHeaders) -> String? {
        if case .failure(.malformed(let reason)) = GRPCRequestHead.parse(headers) { return reason }
        return nil
    }

    func testRequestHeadRefusalsInGRPCsOrder() {
        XCTAssertEqual(answer(headers(method: "GET"))?.httpStatus, 405)
        XCTAssertEqual(answer(headers(contentType: "application/json"))?.httpStatus, 415)
        XCTAssertEqual(answer(headers(contentType: "application/grpc+json"))?.httpStatus, 415)
        XCTAssertEqual(answer(headers(te: false))?.httpStatus, 400)
        XCTAssertEqual(answer(headers([("grpc-timeout", "soon")]))?.error.code, .internal)
        for zero in ["0n", "0S", "00000000H"] {
            let expired = answer(headers([("grpc-timeout", zero)]))
            XCTAssertEqual(expired?.error.code, .deadlineExceeded, zero)
            XCTAssertEqual(expired?.httpStatus, 200, zero)
            XCTAssertTrue(expired?.error.message.contains("grpc-timeout '\(zero)'") == true, expired?.error.message ?? zero)
        }
        let unsupported = answer(headers([("grpc-encoding", "snappy")]))
        XCTAssertEqual(unsupported?.error.code, .unimplemented)
        XCTAssertTrue(unsupported?.error.message.contains("gzip") ?? false)
        XCTAssertEqual(answer(headers([("x-bytes-bin", "%%%")]))?.error.code, .internal)
        XCTAssertEqual(answer(headers([("x-text", "tab\there")]))?.error.code, .internal)
    }

    /// RFC 9113 §8.2-8.3: a malformed block is a stream error, whatever else it says.
    func testMalformedHeaderBlocks() {
        XCTAssertNotNil(malformed(headers([("X-Upper", "a")])))
        XCTAssertNotNil(malformed(headers([("connection", "keep-alive")])))
        XCTAssertNotNil(malformed(headers([("te", "gzip")])))
        XCTAssertNotNil(malformed(HPACKHeaders([("content-type", "application/grpc"), (":method", "POST"),
                                                (":scheme", "http"), (":path", "/a.B/C")])), "pseudo after regular")
        XCTAssertNotNil(malformed(HPACKHeaders([(":method", "POST"), (":method", "POST"), (":scheme", "http"),
                                                (":path", "/a.B/C")])), "a pseudo-header twice")
        XCTAssertNotNil(malformed(HPACKHeaders([(":method", "POST"), (":status", "200"), (":scheme", "http"),
                                                (":path", "/a.B/C")])), "a response pseudo-header")
        XCTAssertNotNil(malformed(HPACKHeaders([(":method", "POST"), (":path", "/a.B/C")])), "no :scheme")
        XCTAssertNil(malformed(headers([("te", "trailers")])))
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
