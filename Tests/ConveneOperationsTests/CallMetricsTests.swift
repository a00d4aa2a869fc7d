@testable import ConveneOperations
import ConveneRPC
import ConveneWire
import XCTest

/// A call's end is counted with atomics and rendered at scrape time: the histogram must be the
/// Prometheus one (cumulative buckets, +Inf equal to the count, the sum in seconds), codes must
/// land in their own series, and calls ending on several threads at once must all be counted.
final class CallMetricsTests: XCTestCase {
    let method = MethodDescriptor(service: "test.v1.Calls", method: "Do", kind: .unary)

    func testTheHistogramIsCumulativeWithItsCountAndSumInSeconds() {
        let metrics = ServerMetrics(version: "1")
        let instrument = metrics.instrument(for: method, owner: "builtin")
        instrument.callEnded(transport: .native, code: .ok, duration: .microseconds(40))      // ≤ 50 µs
        instrument.callEnded(transport: .native, code: .ok, duration: .microseconds(50))      // ≤ 50 µs (bounds are inclusive)
        instrument.callEnded(transport: .grpc, code: .notFound, duration: .milliseconds(2))   // ≤ 2.5 ms
        instrument.callEnded(transport: .inProcess, code: .internal, duration: .seconds(20))  // above 10 s
        let text = metrics.exposition()
        let series = #"service="test.v1.Calls",method="Do""#
        for line in [
            #"convene_call_duration_seconds_bucket{\#(series),le="0.00005"} 2"#,
            #"convene_call_duration_seconds_bucket{\#(series),le="0.001"} 2"#,
            #"convene_call_duration_seconds_bucket{\#(series),le="0.0025"} 3"#,
            #"convene_call_duration_seconds_bucket{\#(series),le="10.0"} 3"#,
            #"convene_call_duration_seconds_bucket{\#(series),le="+Inf"} 4"#,
            #"convene_call_duration_seconds_count{\#(series)} 4"#,
            #"convene_call_duration_seconds_sum{\#(series)} 20.00209"#,
            #"convene_calls_total{\#(series),transport="native",code="OK"} 2"#,
            #"convene_calls_total{\#(series),transport="grpc",code="NOT_FOUND"} 1"#,
            #"convene_calls_total{\#(series),transport="in-process",code="INTERNAL"} 1"#,
        ] {
            XCTAssertTrue(text.contains(line + "\n"), "missing: \(line)\n\(text)")
        }
        XCTAssertFalse(text.contains(#"transport="native",code="NOT_FOUND""#), "no series for a code never seen")
        XCTAssertEqual(text.components(separatedBy: "# TYPE convene_calls_total counter\n").count, 2, "declared once")
        XCTAssertEqual(text.components(separatedBy: "# TYPE convene_call_duration_seconds histogram\n").count, 2)

        let tally = (metrics.tallies().first { $0.descriptor == method })?.tally
        XCTAssertEqual(tally?.calls, 4)
        XCTAssertEqual(tally?.failures, 2)
        XCTAssertEqual(tally?.buckets.first, 2)
        XCTAssertEqual(tally?.buckets.last, 1)
    }

    func testAMethodNeverCalledHasAnEmptyHistogramAndNoCallSeries() {
        let metrics = ServerMetrics(version: "1")
        _ = metrics.instrument(for: method, owner: "builtin")
        let text = metrics.exposition()
        XCTAssertTrue(text.contains(#"convene_call_duration_seconds_count{service="test.v1.Calls",method="Do"} 0"#))
        XCTAssertFalse(text.contains(#"convene_calls_total{service="test.v1.Calls""#))
    }

    func testACodeOutsideTheTableCountsAsUnknown() {
        let metrics = ServerMetrics(version: "1")
        let instrument = metrics.instrument(for: method, owner: "builtin")
        instrument.callEnded(transport: .native, code: StatusCode(rawValue: 200), duration: .zero)
        XCTAssertTrue(metrics.exposition().contains(#"transport="native",code="UNKNOWN"} 1"#))
    }

    func testCallsEndingOnManyThreadsAtOnceAreAllCounted() {
        let metrics = ServerMetrics(version: "1")
        let instrument = metrics.instrument(for: method, owner: "builtin")
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            for i in 0..<5_000 {
                instrument.callEnded(transport: thread % 2 == 0 ? .native : .grpc, code: i % 5 == 0 ? .unavailable : .ok,
                                     duration: .microseconds(Int64(i % 300)))
            }
        }
        let tally = (metrics.tallies().first { $0.descriptor == method })?.tally
        XCTAssertEqual(tally?.calls, 40_000)
        XCTAssertEqual(tally?.failures, 8_000)
        XCTAssertEqual(tally?.buckets.reduce(0, +), 40_000)
        XCTAssertTrue(metrics.exposition().contains(#"convene_calls_total{service="test.v1.Calls",method="Do",transport="grpc",code="OK"} 16000"#))
    }

    func testLabelValuesAreEscaped() {
        XCTAssertEqual(CallMetricsExposition.escaped(#"a"b\c"# + "\nd"), #"a\"b\\c\nd"#)
        XCTAssertEqual(CallMetricsExposition.escaped("plain.Service"), "plain.Service")
    }
}
