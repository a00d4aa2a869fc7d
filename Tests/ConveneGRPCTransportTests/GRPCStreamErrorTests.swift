import ConveneGRPCTransport
import ConveneRPC
import Foundation
import Logging
import NIOCore
import NIOHPACK
import XCTest

/// Errors swift-nio-http2 finds in what a client sends, through a real gRPC listener on
/// 127.0.0.1, with frames written by hand (a client library would not send them).
final class GRPCStreamErrorTests: XCTestCase {
    func testAStreamErrorResetsThatStreamAndTheConnectionGoesOn() async throws {
        let router = Router()
        try router.register(MethodDescriptor(service: "t.S", method: "Wait", kind: .serverStreaming, inputType: "t.M", outputType: "t.M"),
                            .asynchronous { requests, _, _ in
            for try await _ in requests {}
            try await Task.sleep(for: .seconds(60))  // open until the test ends it
        })
        try router.register(MethodDescriptor(service: "t.S", method: "Echo", kind: .unary, inputType: "t.M", outputType: "t.M"),
                            .synchronousUnary { request, _ in request })
        let transport = GRPCServerTransport(router: router, logger: Logger(label: "test"))
        let address = try await transport.bind(host: "127.0.0.1", port: 0)
        let client = try RawH2Client(port: address.port!)

        try client.send(RawH2Client.frame(type: 4, flags: 0, stream: 0))  // SETTINGS
        for stream: UInt32 in [1, 3] {
            try client.send(client.headers(stream: stream, path: "/t.S/Wait"))
            try client.send(RawH2Client.frame(type: 0, flags: 1, stream: stream, [0, 0, 0, 0, 0]))  // an empty message, END_STREAM
        }
        // DATA on stream 3, which the client has ended: a stream error (STREAM_CLOSED, RFC 9113 §5.1).
        try client.send(RawH2Client.frame(type: 0, flags: 0, stream: 3, [0, 0, 0, 0, 0]))
        let reset = try client.read(until: { $0.type == 3 && $0.stream == 3 })
        XCTAssertEqual(reset.payload, [0, 0, 0, 5], "RST_STREAM STREAM_CLOSED")

        // The connection goes on: a new call is answered, and a PING acknowledged.
        try client.send(client.headers(stream: 5, path: "/t.S/Echo"))
        try client.send(RawH2Client.frame(type: 0, flags: 1, stream: 5, [0, 0, 0, 0, 2, 8, 1]))
        _ = try client.read(until: { $0.stream == 5 && $0.flags & 1 != 0 })
        try client.send(RawH2Client.frame(type: 6, flags: 0, stream: 0, [1, 2, 3, 4, 5, 6, 7, 8]))
        _ = try client.read(until: { $0.type == 6 && $0.flags & 1 != 0 })
        XCTAssertFalse(client.seen.contains { $0.type == 7 }, "no GOAWAY: \(client.seen)")
        XCTAssertFalse(client.seen.contains { $0.type == 3 && $0.stream == 1 }, "the other call is not reset")
        client.close()
        await transport.drain(grace: .milliseconds(100))
    }
}

extension GRPCStreamErrorTests {
    /// A stream error whose end frees room that another call waits for: the handler writes
    /// that call's WINDOW_UPDATE as the reset stream closes, between swift-nio-http2's reset
    /// and its report of the error. Still a stream error: the connection goes on.
    func testAStreamErrorThatFreesRoomForAnotherCallIsStillAStreamError() async throws {
        let router = Router()
        try router.register(MethodDescriptor(service: "t.S", method: "Take", kind: .clientStreaming, inputType: "t.M", outputType: "t.M"),
                            .asynchronous { requests, _, _ in
            for try await _ in requests {}
        })
        let transport = GRPCServerTransport(router: router, logger: Logger(label: "test"))
        let address = try await transport.bind(host: "127.0.0.1", port: 0)
        let client = try RawH2Client(port: address.port!)
        try client.send(RawH2Client.frame(type: 4, flags: 0, stream: 0))
        // Three messages of 3.9 MiB each, their prefixes only: two fit the connection's 8 MiB
        // of room for large messages, the third (stream 5) waits for room.
        let length = UInt32(3_900_000)
        for stream: UInt32 in [1, 3, 5] {
            try client.send(client.headers(stream: stream, path: "/t.S/Take"))
            try client.send(RawH2Client.frame(type: 0, flags: 0, stream: stream,
                                              [0, UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]))
        }
        _ = try client.read(until: { $0.type == 8 && $0.stream == 3 })  // stream 3's window opened: it has its room
        // WINDOW_UPDATE of 0 on stream 1: a stream error (RFC 9113 §6.9). Its room goes to stream 5.
        try client.send(RawH2Client.frame(type: 8, flags: 0, stream: 1, [0, 0, 0, 0]))
        let reset = try client.read(until: { $0.type == 3 && $0.stream == 1 })
        XCTAssertEqual(reset.payload, [0, 0, 0, 1], "RST_STREAM PROTOCOL_ERROR")
        _ = try client.read(until: { $0.type == 8 && $0.stream == 5 })
        try client.send(RawH2Client.frame(type: 6, flags: 0, stream: 0, [8, 7, 6, 5, 4, 3, 2, 1]))
        _ = try client.read(until: { $0.type == 6 && $0.flags & 1 != 0 })
        XCTAssertFalse(client.seen.contains { $0.type == 7 }, "no GOAWAY: \(client.seen)")
        client.close()
        await transport.drain(grace: .milliseconds(100))
    }
}

extension GRPCStreamErrorTests {
    /// A request whose DATA do not add up to its `content-length` is malformed (RFC 9113
    /// §8.1.1): that stream is reset with PROTOCOL_ERROR, its method never answers it, and
    /// the connection goes on. A request whose length is right is served.
    func testARequestWhoseDataDisagreeWithItsContentLengthIsReset() async throws {
        let router = Router()
        try router.register(MethodDescriptor(service: "t.S", method: "Echo", kind: .unary, inputType: "t.M", outputType: "t.M"),
                            .synchronousUnary { request, _ in request })
        let transport = GRPCServerTransport(router: router, logger: Logger(label: "test"))
        let address = try await transport.bind(host: "127.0.0.1", port: 0)
        let client = try RawH2Client(port: address.port!)
        try client.send(RawH2Client.frame(type: 4, flags: 0, stream: 0))
        let message: [UInt8] = [0, 0, 0, 0, 2, 8, 1]  // 7 bytes
        // Declared 7, sent 7: answered.
        try client.send(client.headers(stream: 1, path: "/t.S/Echo", extra: [("content-length", "7")]))
        try client.send(RawH2Client.frame(type: 0, flags: 1, stream: 1, message))
        let answered = try client.read(until: { $0.stream == 1 && $0.flags & 1 != 0 })
        XCTAssertEqual(answered.type, 1, "trailers end the call: \(client.seen)")
        // Declared 5, sent 7 with the stream left open: reset at the DATA that passes the length.
        try client.send(client.headers(stream: 3, path: "/t.S/Echo", extra: [("content-length", "5")]))
        try client.send(RawH2Client.frame(type: 0, flags: 0, stream: 3, message))
        XCTAssertEqual(try client.read(until: { $0.stream == 3 }).payload, [0, 0, 0, 1], "RST_STREAM PROTOCOL_ERROR")
        // Declared 9, the stream ended after 7 (seen at its end).
        try client.send(client.headers(stream: 5, path: "/t.S/Echo", extra: [("content-length", "9")]))
        try client.send(RawH2Client.frame(type: 0, flags: 1, stream: 5, message))
        XCTAssertEqual(try client.read(until: { $0.stream == 5 }).payload, [0, 0, 0, 1], "RST_STREAM PROTOCOL_ERROR")
        // Declared 7 and no DATA at all; then a length that is not a number.
        try client.send(client.headers(stream: 7, path: "/t.S/Echo", extra: [("content-length", "7")]).endingStream)
        XCTAssertEqual(try client.read(until: { $0.stream == 7 }).payload, [0, 0, 0, 1], "RST_STREAM PROTOCOL_ERROR")
        try client.send(client.headers(stream: 9, path: "/t.S/Echo", extra: [("content-length", "7 ")]))
        XCTAssertEqual(try client.read(until: { $0.stream == 9 }).payload, [0, 0, 0, 1], "RST_STREAM PROTOCOL_ERROR")
        for stream: UInt32 in [3, 5, 7, 9] {
            XCTAssertEqual(client.seen.filter { $0.stream == stream }.map(\.type), [3], "stream \(stream): a reset only, no answer")
        }
        // The connection goes on.
        try client.send(client.headers(stream: 11, path: "/t.S/Echo"))
        try client.send(RawH2Client.frame(type: 0, flags: 1, stream: 11, message))
        XCTAssertEqual(try client.read(until: { $0.stream == 11 && $0.flags & 1 != 0 }).type, 1)
        XCTAssertFalse(client.seen.contains { $0.type == 7 }, "no GOAWAY: \(client.seen)")
        client.close()
        await transport.drain(grace: .milliseconds(100))
    }
}

/// A client writing HTTP/2 frames by hand over a blocking socket (reads time out after 10 s).
final class RawH2Client {
    struct Frame: CustomStringConvertible {
        let type: UInt8
        let flags: UInt8
        let stream: UInt32
        let payload: [UInt8]
        var description: String { "type \(type) flags \(flags) stream \(stream) (\(payload.count) bytes)" }
    }

    private let descriptor: Int32
    private var encoder = HPACKEncoder(allocator: ByteBufferAllocator())
    private var buffered: [UInt8] = []
    private(set) var seen: [Frame] = []

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw RPCError(.unavailable, "connect: \(errno)") }
        try send(Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8))
    }

    static func frame(type: UInt8, flags: UInt8, stream: UInt32, _ payload: [UInt8] = []) -> [UInt8] {
        let length = UInt32(payload.count)
        return [UInt8(length >> 16), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF), type, flags,
                UInt8(stream >> 24), UInt8(stream >> 16 & 0xFF), UInt8(stream >> 8 & 0xFF), UInt8(stream & 0xFF)] + payload
    }

    /// A gRPC request's HEADERS (END_HEADERS, the stream left open for its DATA).
    func headers(stream: UInt32, path: String, extra: [(String, String)] = []) throws -> [UInt8] {
        var block = ByteBufferAllocator().buffer(capacity: 128)
        try encoder.encode(headers: HPACKHeaders([(":method", "POST"), (":scheme", "http"), (":path", path), (":authority", "localhost"),
                                                  ("content-type", "application/grpc"), ("te", "trailers")] + extra), to: &block)
        return Self.frame(type: 1, flags: 4, stream: stream, Array(buffer: block))
    }

    func send(_ bytes: [UInt8]) throws {
        let sent = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == bytes.count else { throw RPCError(.unavailable, "send: \(errno)") }
    }

    /// Reads frames (acknowledging the server's SETTINGS) until one matches; throws when the
    /// connection ends or 10 s pass without a byte.
    func read(until match: (Frame) -> Bool) throws -> Frame {
        while true {
            while buffered.count >= 9 {
                let length = Int(buffered[0]) << 16 | Int(buffered[1]) << 8 | Int(buffered[2])
                guard buffered.count >= 9 + length else { break }
                let stream = UInt32(buffered[5] & 0x7F) << 24 | UInt32(buffered[6]) << 16 | UInt32(buffered[7]) << 8 | UInt32(buffered[8])
                let frame = Frame(type: buffered[3], flags: buffered[4], stream: stream, payload: Array(buffered[9..<9 + length]))
                buffered.removeFirst(9 + length)
                seen.append(frame)
                if frame.type == 4, frame.flags & 1 == 0 { try send(Self.frame(type: 4, flags: 1, stream: 0)) }
                if match(frame) { return frame }
            }
            var chunk = [UInt8](repeating: 0, count: 16_384)
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { throw RPCError(.unavailable, "the connection ended (\(count), errno \(errno)); frames: \(seen)") }
            buffered += chunk[..<count]
        }
    }

    func close() { Glibc.close(descriptor) }
}

extension [UInt8] {
    /// This frame (a HEADERS one) with END_STREAM set.
    var endingStream: [UInt8] {
        var frame = self
        frame[4] |= 1
        return frame
    }
}
