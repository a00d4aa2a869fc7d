import ConveneBuiltins
import ConveneClient
import ConveneProtos
import ConveneRPC
import ConveneTransport
import ConveneWire
import Foundation
import NIOCore
import XCTest

/// The cases of gRPC's interop suite, against a real server on 127.0.0.1.
final class InteropTests: XCTestCase {
    typealias T = TestServiceMethods

    func payload(_ size: Int) -> Convene_Testing_V1_Payload {
        .with { $0.body = Data(count: size) }
    }

    func testEmptyUnary() async throws {
        try await withServer { _, client in
            let response = try await client.unary(T.emptyCall, Convene_Testing_V1_Empty(), as: Convene_Testing_V1_Empty.self)
            XCTAssertEqual(response, Convene_Testing_V1_Empty())
        }
    }

    func testLargeUnary() async throws {
        try await withServer { _, client in
            let request = Convene_Testing_V1_SimpleRequest.with {
                $0.responseSize = 314_159
                $0.payload = payload(271_828)
            }
            let response = try await client.unary(T.unaryCall, request, as: Convene_Testing_V1_SimpleResponse.self)
            XCTAssertEqual(response.payload.body.count, 314_159)
            XCTAssertTrue(response.payload.body.allSatisfy { $0 == 0 })
        }
    }

    func testClientStreaming() async throws {
        try await withServer { _, client in
            let call = try await client.streaming(T.streamingInputCall,
                requestType: Convene_Testing_V1_StreamingInputCallRequest.self,
                as: Convene_Testing_V1_StreamingInputCallResponse.self)
            for size in [27182, 8, 1828, 45904] {
                try await call.send(.with { $0.payload = payload(size) })
            }
            try await call.finish()
            let response = try await call.response()
            XCTAssertEqual(response.aggregatedPayloadSize, 74922)
        }
    }

    func testServerStreaming() async throws {
        try await withServer { _, client in
            let sizes: [Int32] = [31415, 9, 2653, 58979]
            let call = try await client.serverStreaming(T.streamingOutputCall,
                Convene_Testing_V1_StreamingOutputCallRequest.with {
                    $0.responseParameters = sizes.map { size in .with { $0.size = size } }
                }, as: Convene_Testing_V1_StreamingOutputCallResponse.self)
            var received: [Int] = []
            for try await response in call.responses { received.append(response.payload.body.count) }
            XCTAssertEqual(received, sizes.map(Int.init))
            let end = await call.end
            XCTAssertEqual(end.code, .ok)
        }
    }

    func testPingPong() async throws {
        try await withServer { _, client in
            let call = try await client.streaming(T.fullDuplexCall,
                requestType: Convene_Testing_V1_StreamingOutputCallRequest.self,
                as: Convene_Testing_V1_StreamingOutputCallResponse.self)
            var responses = call.responses.makeAsyncIterator()
            for (request, response) in zip([27182, 8, 1828, 45904], [31415, 9, 2653, 58979]) {
                try await call.send(.with {
                    $0.responseParameters = [.with { $0.size = Int32(response) }]
                    $0.payload = payload(request)
                })
                let answer = try await responses.next()
                XCTAssertEqual(answer?.payload.body.count, response)
            }
            try await call.finish()
            let last = try await responses.next()
            XCTAssertNil(last)
            let end = await call.end
            XCTAssertEqual(end.code, .ok)
        }
    }

    func testEmptyStream() async throws {
        try await withServer { _, client in
            let call = try await client.streaming(T.fullDuplexCall,
                requestType: Convene_Testing_V1_StreamingOutputCallRequest.self,
                as: Convene_Testing_V1_StreamingOutputCallResponse.self)
            try await call.finish()
            var count = 0
            for try await _ in call.responses { count += 1 }
            XCTAssertEqual(count, 0)
            let end = await call.end
            XCTAssertEqual(end.code, .ok)
        }
    }

    func testClientCompressedUnary() async throws {
        try await withServer { _, client in
            let request = Convene_Testing_V1_SimpleRequest.with {
                $0.responseSize = 314_159
                $0.payload = payload(271_828)
                $0.expectCompressed = true
            }
            let compressed = CallOptions(requestCompression: .deflate)
            let response = try await client.unary(T.unaryCall, request, as: Convene_Testing_V1_SimpleResponse.self,
                                                  options: compressed)
            XCTAssertEqual(response.payload.body.count, 314_159)
            // The server sees that an uncompressed request was not compressed.
            await assertRPCError(.invalidArgument) {
                try await client.unary(T.unaryCall, request, as: Convene_Testing_V1_SimpleResponse.self)
            }
        }
    }

    func testServerCompressedUnaryIsCompressedOnTheWire() async throws {
        try await withServer { server, client in
            let request = Convene_Testing_V1_SimpleRequest.with {
                $0.responseSize = 314_159
                $0.responseCompressed = true
            }
            let response = try await client.unary(T.unaryCall, request, as: Convene_Testing_V1_SimpleResponse.self,
                                                  options: CallOptions(responseCompression: .deflate))
            XCTAssertEqual(response.payload.body.count, 314_159)

            // On the wire: the response message carries encoding 1 and is far smaller than 314,159 bytes.
            let raw = try await RawConnection(port: server.port)
            defer { Task { await raw.close() } }
            try await raw.handshake()
            try await raw.write {
                $0.writeFrame(.call(streamID: 1, CallStart(path: T.unaryCall.path, responseEncoding: .deflate)))
                $0.writeFrame(.data(streamID: 1, .message(try! request.serializedBytes()), endStream: true))
            }
            var data = ByteBuffer()
            while let frame = try await raw.nextInteresting() {
                if case .data(_, var payload, _) = frame { data.writeBuffer(&payload) }
                if case .end(_, let end) = frame { XCTAssertEqual(end.code, .ok); break }
            }
            XCTAssertEqual(data.getInteger(at: 0, as: UInt8.self), MessageEncoding.deflate.rawValue)
            XCTAssertLessThan(data.readableBytes, 10_000)
        }
    }

    func testClientCompressedStreaming() async throws {
        try await withServer { _, client in
            let call = try await client.streaming(T.streamingInputCall,
                requestType: Convene_Testing_V1_StreamingInputCallRequest.self,
                as: Convene_Testing_V1_StreamingInputCallResponse.self,
                options: CallOptions(requestCompression: .deflate))
            try await call.send(.with { $0.payload = payload(27182) }, compress: true)
            try await call.send(.with { $0.payload = payload(45904) }, compress: false)  // per-message opt-out
            try await call.finish()
            let response = try await call.response()
            XCTAssertEqual(response.aggregatedPayloadSize, 73086)
        }
    }

    func testServerCompressedStreaming() async throws {
        try await withServer { server, _ in
            let request = Convene_Testing_V1_StreamingOutputCallRequest.with {
                $0.responseParameters = [.with { $0.size = 31415; $0.compressed = true },
                                         .with { $0.size = 92653; $0.compressed = false }]
            }
            let raw = try await RawConnection(port: server.port)
            defer { Task { await raw.close() } }
            try await raw.handshake()
            try await raw.write {
                $0.writeFrame(.call(streamID: 1, CallStart(path: T.streamingOutputCall.path, responseEncoding: .deflate)))
                $0.writeFrame(.data(streamID: 1, .message(try! request.serializedBytes()), endStream: true))
            }
            var deframer = MessageDeframer(maxMessageSize: 1 << 20)
            var encodings: [MessageEncoding] = []
            var sizes: [Int] = []
            while let frame = try await raw.nextInteresting() {
                if case .data(_, let payload, _) = frame {
                    deframer.append(payload)
                    while let message = try deframer.next() {
                        encodings.append(message.encoding)
                        let plain = message.encoding == .deflate
                            ? try MessageCompression.inflate(message.bytes, limit: 1 << 20) : message.bytes
                        sizes.append(try Convene_Testing_V1_StreamingOutputCallResponse(
                            serializedBytes: Array(buffer: plain)).payload.body.count)
                    }
                }
                if case .end(_, let end) = frame { XCTAssertEqual(end.code, .ok); break }
            }
            XCTAssertEqual(encodings, [.deflate, .identity])
            XCTAssertEqual(sizes, [31415, 92653])
        }
    }

    func testCustomMetadata() async throws {
        try await withServer { _, client in
            var options = CallOptions()
            options.metadata.add(InteropService.echoInitialKey, "test_initial_metadata_value")
            options.metadata.add(InteropService.echoTrailingKey, binary: [0xab, 0xab, 0xab])
            let unary = try await client.unaryWithMetadata(T.unaryCall, Convene_Testing_V1_SimpleRequest.with {
                $0.responseSize = 314_159
                $0.payload = payload(271_828)
            }, as: Convene_Testing_V1_SimpleResponse.self, options: options)
            XCTAssertEqual(unary.headers[InteropService.echoInitialKey], "test_initial_metadata_value")
            XCTAssertEqual(unary.trailers.binary(InteropService.echoTrailingKey), [0xab, 0xab, 0xab])

            let call = try await client.streaming(T.fullDuplexCall,
                requestType: Convene_Testing_V1_StreamingOutputCallRequest.self,
                as: Convene_Testing_V1_StreamingOutputCallResponse.self, options: options)
            try await call.send(.with { $0.responseParameters = [.with { $0.size = 314_159 }] })
            try await call.finish()
            var count = 0
            for try await _ in call.responses { count += 1 }
            XCTAssertEqual(count, 1)
            let headers = try await call.headers
            XCTAssertEqual(headers[InteropService.echoInitialKey], "test_initial_metadata_value")
            let end = await call.end
            XCTAssertEqual(end.trailers.binary(InteropService.echoTrailingKey), [0xab, 0xab, 0xab])
        }
    }

    func testBinaryInitialAndASCIITrailingMetadataAreEchoedToo() async throws {
        try await withServer { _, client in
            var options = CallOptions()
            options.metadata.add(InteropService.echoInitialKey + "-bin", binary: [0, 1, 0xfe, 0xff])
            options.metadata.add(InteropService.echoTrailingASCIIKey, "trailing text")
            options.metadata.add(InteropService.echoTrailingASCIIKey, "twice")
            let unary = try await client.unaryWithMetadata(T.unaryCall, Convene_Testing_V1_SimpleRequest.with {
                $0.responseSize = 1
            }, as: Convene_Testing_V1_SimpleResponse.self, options: options)
            XCTAssertEqual(unary.headers.binary(InteropService.echoInitialKey + "-bin"), [0, 1, 0xfe, 0xff])
            XCTAssertEqual(unary.trailers.filter { $0.key == InteropService.echoTrailingASCIIKey }.map(\.value),
                           [.string("trailing text"), .string("twice")])
        }
    }

    func testStatusCodeAndMessage() async throws {
        try await withServer { _, client in
            let status = Convene_Testing_V1_EchoStatus.with { $0.code = 2; $0.message = "test status message" }
            let error = await assertRPCError(.unknown) {
                try await client.unary(T.unaryCall, Convene_Testing_V1_SimpleRequest.with { $0.responseStatus = status },
                                       as: Convene_Testing_V1_SimpleResponse.self)
            }
            XCTAssertEqual(error?.message, "test status message")

            let call = try await client.streaming(T.fullDuplexCall,
                requestType: Convene_Testing_V1_StreamingOutputCallRequest.self,
                as: Convene_Testing_V1_StreamingOutputCallResponse.self)
            try await call.send(.with { $0.responseStatus = status })
            try await call.finish()
            let streamError = await assertRPCError(.unknown) { for try await _ in call.responses {} }
            XCTAssertEqual(streamError?.message, "test status message")
        }
    }

    func testSpecialStatusMessage() async throws {
        try await withServer { _, client in
            let text = "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n"
            let error = await assertRPCError(.unknown) {
                try await client.unary(T.unaryCall, Convene_Testing_V1_SimpleRequest.with {
                    $0.responseStatus = .with { $0.code = 2; $0.message = text }
                }, as: Convene_Testing_V1_SimpleResponse.self)
            }
            XCTAssertEqual(error?.message, text)
        }
    }

    func testUnimplementedMethod() async throws {
        try await withServer { _, client in
            let error = await assertRPCError(.unimplemented) {
                try await client.unary(T.unimplementedCall, Convene_Testing_V1_Empty(), as: Convene_Testing_V1_Empty.self)
            }
            XCTAssertEqual(error?.message, "unknown method UnimplementedCall of service convene.testing.v1.TestService")
        }
    }

    func testUnimplementedService() async throws {
        try await withServer { _, client in
            let method = MethodDescriptor(service: "convene.testing.v1.UnimplementedService", method: "UnimplementedCall",
                                          kind: .unary)
            let error = await assertRPCError(.unimplemented) {
                try await client.unary(method, Convene_Testing_V1_Empty(), as: Convene_Testing_V1_Empty.self)
            }
            XCTAssertEqual(error?.message, "unknown service convene.testing.v1.UnimplementedService")
        }
    }

    func testCancelAfterBegin() async throws {
        try await withServer { _, client in
            let call = try await client.streaming(T.streamingInputCall,
                requestType: Convene_Testing_V1_StreamingInputCallRequest.self,
                as: Convene_Testing_V1_StreamingInputCallResponse.self)
            call.cancel()
            await assertRPCError(.cancelled) { try await call.response() }
            let end = await call.end
            XCTAssertEqual(end.code, .cancelled)
        }
    }

    func testCancelAfterFirstResponse() async throws {
        try await withServer { _, client in
            let call = try await client.streaming(T.fullDuplexCall,
                requestType: Convene_Testing_V1_StreamingOutputCallRequest.self,
                as: Convene_Testing_V1_StreamingOutputCallResponse.self)
            var responses = call.responses.makeAsyncIterator()
            try await call.send(.with {
                $0.responseParameters = [.with { $0.size = 31415 }]
                $0.payload = payload(27182)
            })
            let first = try await responses.next()
            XCTAssertEqual(first?.payload.body.count, 31415)
            call.cancel()
            await assertRPCError(.cancelled) { _ = try await responses.next() }
        }
    }

    func testTimeoutOnSleepingServer() async throws {
        try await withServer { _, client in
            let call = try await client.streaming(T.fullDuplexCall,
                requestType: Convene_Testing_V1_StreamingOutputCallRequest.self,
                as: Convene_Testing_V1_StreamingOutputCallResponse.self,
                options: CallOptions(timeout: .milliseconds(1)))
            try? await call.send(.with { $0.payload = payload(27182) })
            await assertRPCError(.deadlineExceeded) { for try await _ in call.responses {} }

            await assertRPCError(.deadlineExceeded) {
                try await client.unary(T.sleep, Convene_Testing_V1_SleepRequest.with { $0.milliseconds = 10_000 },
                                       as: Convene_Testing_V1_Empty.self, options: CallOptions(timeout: .milliseconds(50)))
            }
        }
    }

    func testThousandConcurrentLargeUnaryCallsOnOneConnection() async throws {
        try await withServer { _, client in
            let request = Convene_Testing_V1_SimpleRequest.with {
                $0.responseSize = 314_159
                $0.payload = payload(271_828)
            }
            let connection = try await client.connection()
            let sizes = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<1000 {
                    group.addTask {
                        try await client.unary(T.unaryCall, request, as: Convene_Testing_V1_SimpleResponse.self).payload.body.count
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            XCTAssertEqual(sizes.count, 1000)
            XCTAssertTrue(sizes.allSatisfy { $0 == 314_159 })
            let sameConnection = try await client.connection()
            XCTAssertTrue(connection === sameConnection, "all calls multiplexed on one connection")
        }
    }
}
