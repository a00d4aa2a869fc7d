@testable import ConveneOperations
import ConveneClient
import ConveneRPC
import ConveneTesting
import ConveneServer
import ConveneTransport
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest

final class OperationsTests: XCTestCase {
    func testTalliesGivePercentilesOverAnInterval() {
        var earlier = MethodTally()
        for _ in 0..<10 { earlier.record(nanoseconds: 2_000_000, failed: false) }
        var later = earlier
        for i in 0..<100 { later.record(nanoseconds: i < 98 ? 40_000 : 700_000_000, failed: i == 0) }
        let interval = later.since(earlier)
        XCTAssertEqual(interval.calls, 100)
        XCTAssertEqual(interval.failures, 1)
        XCTAssertEqual(interval.quantile(0.5), 50_000, "the bucket holding the median")
        XCTAssertEqual(interval.quantile(0.99), 1_000_000_000)
        XCTAssertNil(MethodTally().quantile(0.5))
    }

    func testExpositionLabelsCallsByServiceMethodTransportAndCode() {
        let metrics = ServerMetrics(version: "9.9.9")
        let method = MethodDescriptor(service: "convene.consultation.v1.Consultation", method: "GetMeeting", kind: .unary)
        let instrument = metrics.instrument(for: method, owner: "builtin")
        instrument.callEnded(transport: .native, code: .ok, duration: .microseconds(80))
        instrument.callEnded(transport: .native, code: .ok, duration: .microseconds(120))
        instrument.callEnded(transport: .grpc, code: .notFound, duration: .milliseconds(3))
        metrics.unknownMethodCalled(transport: .grpc)
        metrics.connectionOpened(.native)
        metrics.bytes(.native, read: 100, written: 40)
        metrics.goAway(.native, code: "TIMEOUT")
        metrics.refused(.grpc, reason: .perAddressLimit)
        let text = metrics.exposition()
        for line in [
            #"convene_calls_total{service="convene.consultation.v1.Consultation",method="GetMeeting",transport="native",code="OK"} 2"#,
            #"convene_calls_total{service="convene.consultation.v1.Consultation",method="GetMeeting",transport="grpc",code="NOT_FOUND"} 1"#,
            #"convene_call_duration_seconds_count{service="convene.consultation.v1.Consultation",method="GetMeeting"} 3"#,
            #"convene_unknown_method_calls_total{transport="grpc"} 1"#,
            #"convene_connections{transport="native"} 1"#,
            #"convene_bytes_total{transport="native",direction="in"} 100"#,
            #"convene_goaways_total{transport="native",code="TIMEOUT"} 1"#,
            #"convene_refusals_total{transport="grpc",reason="per-address-limit"} 1"#,
            #"convene_build_info{version="9.9.9"} 1"#,
        ] {
            XCTAssertTrue(text.contains(line), "missing: \(line)")
        }
        // A reloaded plugin's method keeps its series.
        XCTAssertTrue(metrics.instrument(for: method, owner: "plugin:x") as AnyObject === instrument as AnyObject)
    }

    func testStatusPageShowsTheBusiestMethodsAndEscapes() {
        let metrics = ServerMetrics(version: "1.0.0")
        let sampler = StatusSampler(metrics: metrics)
        let start = ContinuousClock.now
        sampler.sample(at: start)
        let method = MethodDescriptor(service: "convene.friends.v1.GroupsOfFriends", method: "ListGroups", kind: .unary)
        let instrument = metrics.instrument(for: method, owner: "plugin:friends")
        for i in 0..<50 { instrument.callEnded(transport: .native, code: i < 5 ? .internal : .ok, duration: .microseconds(300)) }
        sampler.sample(at: start.advanced(by: .seconds(5)))
        XCTAssertTrue(StatusPage.render(status: .init(version: "1", started: Date(), listeners: [], plugins: []), sampler: sampler)
            .contains("the plot starts after three samples"))
        for _ in 0..<5 { instrument.callEnded(transport: .native, code: .ok, duration: .milliseconds(2)) }
        sampler.sample(at: start.advanced(by: .seconds(10)))
        let status = ServerStatus(version: "1.0.0", started: Date(timeIntervalSinceNow: -3700),
                                  listeners: [.init(name: "native", address: "127.0.0.1:7353")],
                                  plugins: [.init(name: "<friends>", version: "1", state: "degraded", detail: "2 calls stuck")])
        let html = StatusPage.render(status: status, sampler: sampler)
        XCTAssertTrue(html.contains("convene.friends.v1.GroupsOfFriends/ListGroups</td><td class=\"n\">1.0</td>"), "over the last interval")
        XCTAssertTrue(html.contains("<td class=\"n\">55</td>"), "calls in all")
        XCTAssertTrue(html.contains("≤ 2 ms"))
        XCTAssertTrue(html.contains("&lt;friends&gt;"), "names are escaped")
        XCTAssertTrue(html.contains("class=\"degraded\""))
        XCTAssertTrue(html.contains("up 1 h 1 min"))
        XCTAssertTrue(html.contains("<polyline"))
    }

    func testTheEndpointServesMetricsAndThePage() async throws {
        let server = try await TestServer.start { $0.metricsPort = 0 }
        let port = try XCTUnwrap(server.server.operationsAddress?.port)
        let (metrics, metricsType) = try await get(port: port, path: "/metrics")
        XCTAssertTrue(metricsType.hasPrefix("text/plain; version=0.0.4"))
        XCTAssertTrue(metrics.contains("convene_build_info{version=\"\(ConveneServer.version)\"} 1"))
        let (page, pageType) = try await get(port: port, path: "/")
        XCTAssertTrue(pageType.hasPrefix("text/html"))
        XCTAssertTrue(page.contains("<h1>Convene \(ConveneServer.version)</h1>"))
        XCTAssertTrue(page.contains("groups-of-friends"), "the plugins")
        let (missing, _) = try await get(port: port, path: "/nope")
        XCTAssertTrue(missing.contains("not found"))
        await server.stop()
    }

    func testACallContinuesTheCallersW3CTraceAndItsStoreWorkNestsUnderIt() async throws {
        let tracer = W3CTestTracer()
        let server = try await TestServer.start { $0.tracer = tracer }
        let client = server.client()
        var options = CallOptions.bearer(try server.adminToken)
        options.metadata.add("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
        _ = try await client.administration.listParties(.init(), options: options)
        await client.close()
        await server.stop()
        let spans = tracer.recorder.finishedSpans
        let call = try XCTUnwrap(spans.first { $0.operationName == "convene.admin.v1.Administration/ListParties" })
        XCTAssertEqual(call.spanContext.traceID, "0af7651916cd43dd8448eb211c80319c", "the caller's trace continues")
        XCTAssertEqual(call.spanContext.parentSpanID, "b7ad6b7169203331")
        XCTAssertEqual(call.kind, .server)
        let store = try XCTUnwrap(spans.first { $0.operationName == "store.read" && $0.spanContext.parentSpanID == call.spanContext.spanID })
        XCTAssertEqual(store.spanContext.traceID, call.spanContext.traceID)
    }

    /// A GET over a plain socket (the endpoint is HTTP/1.1).
    func get(port: Int, path: String) async throws -> (body: String, contentType: String) {
        let url = try XCTUnwrap(URL(string: "http://127.0.0.1:\(port)\(path)"))
        let (data, response) = try await URLSession.shared.data(from: url)
        let http = try XCTUnwrap(response as? HTTPURLResponse)
        return (String(decoding: data, as: UTF8.self), http.value(forHTTPHeaderField: "content-type") ?? "")
    }
}
