@testable import ConveneOperations
import ConveneRPC
import ConveneTesting
import ConveneTransport
import ConveneWire
import NIOCore
import XCTest

/// The native listener reports to the server's metrics as the gRPC listener does: connections
/// opened and closed, the bytes they carry, GOAWAYs by code and refusals by kind, provoked
/// over real sockets on 127.0.0.1.
final class NativeConnectionMetricsTests: XCTestCase {
    func testTheNativeListenerReportsConnectionsBytesGoAwaysAndRefusals() async throws {
        try await withServer({
            $0.metricsPort = 0
            $0.connection.maxConnectionsPerAddress = 4
            $0.connection.maxHandlerTasks = 1
        }) { server, client in
            let metrics = try XCTUnwrap(server.server.metrics)
            func value(_ series: String) -> Double { Self.value(of: series, in: metrics.exposition()) }
            let status = try await client.health.check().status
            XCTAssertEqual(status, .serving)
            XCTAssertGreaterThan(value(#"convene_connections{transport="native"}"#), 0)
            XCTAssertGreaterThan(value(#"convene_bytes_total{transport="native",direction="in"}"#), 0)
            XCTAssertGreaterThan(value(#"convene_bytes_total{transport="native",direction="out"}"#), 0)
            // Calls on the native listener are counted by method, transport and code, and timed.
            XCTAssertEqual(value(#"convene_calls_total{service="convene.health.v1.Health",method="Check",transport="native",code="OK"}"#), 1)
            XCTAssertEqual(value(#"convene_call_duration_seconds_count{service="convene.health.v1.Health",method="Check"}"#), 1)

            // PING flood: GOAWAY ENHANCE_YOUR_CALM, a ping-flood refusal.
            let pinger = try await RawConnection(port: server.port)
            try await pinger.handshake()
            try await pinger.write { for i in 0..<20 { $0.writeFrame(.ping(UInt64(i), ack: false)) } }
            let pingerFrames = try await pinger.readUntilClosed()
            XCTAssertEqual(Self.goAway(pingerFrames)?.code, .enhanceYourCalm)
            XCTAssertEqual(value(#"convene_refusals_total{transport="native",reason="ping-flood"}"#), 1)
            XCTAssertEqual(value(#"convene_goaways_total{transport="native",code="ENHANCE_YOUR_CALM"}"#), 1)

            // Bytes that are not the protocol: GOAWAY PROTOCOL_ERROR, a malformed refusal.
            let garbage = try await RawConnection(port: server.port)
            try await garbage.write { $0.writeString("GET / HTTP/1.1\r\nHost: x\r\n\r\n") }
            let garbageFrames = try await garbage.readUntilClosed()
            XCTAssertEqual(Self.goAway(garbageFrames)?.code, .protocolError)
            XCTAssertEqual(value(#"convene_refusals_total{transport="native",reason="malformed"}"#), 1)
            XCTAssertEqual(value(#"convene_goaways_total{transport="native",code="PROTOCOL_ERROR"}"#), 1)

            // A second asynchronous call while the first one's handler runs (the bound is 1).
            let method = MethodDescriptor(service: "test.Metrics", method: "Wait", kind: .serverStreaming)
            try server.server.router.register(method, .asynchronous { _, _, _ in try? await Task.sleep(for: .seconds(30)) })
            let caller = try await RawConnection(port: server.port)
            try await caller.handshake()
            try await caller.write {
                for id: UInt32 in [1, 3] {
                    $0.writeFrame(.call(streamID: id, CallStart(path: method.path)))
                    $0.writeFrame(.data(streamID: id, .message([]), endStream: true))
                }
            }
            guard case .end(let id, let end)? = try await caller.nextInteresting() else { return XCTFail("no END") }
            XCTAssertEqual(id, 3)
            XCTAssertEqual(end.code, .resourceExhausted)
            XCTAssertEqual(value(#"convene_refusals_total{transport="native",reason="handler-tasks"}"#), 1)

            // Connections from one address past its limit: GOAWAY OVERLOADED, a per-address refusal.
            var open = [caller]
            var refused = false
            for _ in 0..<6 where !refused {
                let raw = try await RawConnection(port: server.port)
                try? await raw.handshake()  // a refused connection may be closed before it is written
                open.append(raw)
                // An admitted connection's first frame is the server's SETTINGS; a refused one's, GOAWAY.
                if case .goAway(let goAway)? = try await raw.nextFrame() {
                    XCTAssertEqual(goAway.code, .overloaded)
                    refused = true
                }
            }
            XCTAssertTrue(refused, "the fifth connection from 127.0.0.1 is over the limit of 4")
            XCTAssertEqual(value(#"convene_refusals_total{transport="native",reason="per-address-limit"}"#), 1)
            XCTAssertEqual(value(#"convene_goaways_total{transport="native",code="OVERLOADED"}"#), 1)

            // Closed connections leave the gauge.
            for raw in open { await raw.close() }
            let closed = await eventually {
                value(#"convene_connections{transport="native"}"#) == Double(server.server.transport.connectionCount)
            }
            XCTAssertTrue(closed, "the gauge follows the open connections")
        }
    }

    /// A call refused as it opens (no credential for a domain service, a path nobody serves)
    /// never reaches a handler, and is counted all the same: in its method's calls with the
    /// refusal's code, or as an unknown method's call.
    func testCallsRefusedAsTheyOpenAreCounted() async throws {
        try await withServer({ $0.metricsPort = 0 }) { server, _ in
            let metrics = try XCTUnwrap(server.server.metrics)
            func value(_ series: String) -> Double { Self.value(of: series, in: metrics.exposition()) }
            let listOperations = "/convene.consultation.v1.Consultation/ListOperations"
            let raw = try await RawConnection(port: server.port)
            try await raw.handshake()
            for (id, path) in [(UInt32(1), listOperations), (3, listOperations), (5, "/no.such.Service/Nothing")] {
                try await raw.write { $0.writeFrame(.call(streamID: id, CallStart(path: path))) }
                guard case .end(id, let end)? = try await raw.nextInteresting() else { return XCTFail("\(path): expected an END") }
                XCTAssertEqual(end.code, path == listOperations ? .unauthenticated : .unimplemented, path)
            }
            let refused = #"convene_calls_total{service="convene.consultation.v1.Consultation",method="ListOperations",transport="native",code="UNAUTHENTICATED"}"#
            XCTAssertEqual(value(refused), 2)
            XCTAssertEqual(value(#"convene_unknown_method_calls_total{transport="native"}"#), 1)
            await raw.close()
            // (The gRPC listener's count: Tests/GRPCPython/test_status_page.py.)
        }
    }

    static func goAway(_ frames: [Frame]) -> GoAway? {
        guard case .goAway(let goAway)? = frames.last else { return nil }
        return goAway
    }

    /// The value of one series in a Prometheus text exposition (0 when it is absent).
    static func value(of series: String, in exposition: String) -> Double {
        for line in exposition.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1)) ?? .nan
        }
        return 0
    }
}
