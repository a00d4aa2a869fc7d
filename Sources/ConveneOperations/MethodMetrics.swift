import ConveneRPC
import CoreMetrics
import Prometheus

/// The metrics of one method: calls by transport and status code, and latency. Made once per
/// method when it is registered; label values come from the router, never from a client.
final class MethodMetrics: MethodInstrument {
    let descriptor: MethodDescriptor
    let owner: String
    private let factory: PrometheusMetricsFactory
    private let latency: CoreMetrics.Timer
    /// Counters made on first use (a method rarely sees more than a few codes), and the tallies
    /// the status page reads.
    private let state = Locked(State())

    struct State {
        var counters: [Key: CoreMetrics.Counter] = [:]
        var tally = MethodTally()
    }

    struct Key: Hashable {
        var transport: TransportKind
        var code: StatusCode
    }

    init(descriptor: MethodDescriptor, owner: String, factory: PrometheusMetricsFactory) {
        self.descriptor = descriptor
        self.owner = owner
        self.factory = factory
        self.latency = CoreMetrics.Timer(label: ServerMetrics.Names.callDuration,
                                         dimensions: [("service", descriptor.service), ("method", descriptor.method)],
                                         factory: factory)
    }

    func callEnded(transport: TransportKind, code: StatusCode, duration: Duration) {
        let nanoseconds = duration.saturatingNanoseconds
        let counter = state.withLock { state -> CoreMetrics.Counter in
            state.tally.record(nanoseconds: nanoseconds, failed: code != .ok)
            if let counter = state.counters[Key(transport: transport, code: code)] { return counter }
            let counter = CoreMetrics.Counter(label: ServerMetrics.Names.calls, dimensions: [
                ("service", descriptor.service), ("method", descriptor.method),
                ("transport", transport.rawValue), ("code", code.name),
            ], factory: factory)
            state.counters[Key(transport: transport, code: code)] = counter
            return counter
        }
        counter.increment()
        latency.recordNanoseconds(nanoseconds)
    }

    var tally: MethodTally { state.withLock { $0.tally } }
}

/// Running totals of a method's calls for the status page: calls, failures, and a latency
/// histogram over fixed buckets (cheap to keep; percentiles come from differences).
struct MethodTally: Sendable {
    /// Upper bounds in nanoseconds: 50 µs to 10 s, then everything above.
    static let bounds: [Int64] = [50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000,
                                  25_000_000, 50_000_000, 100_000_000, 250_000_000, 500_000_000, 1_000_000_000,
                                  2_500_000_000, 10_000_000_000, .max]
    var calls = 0
    var failures = 0
    var buckets = [Int](repeating: 0, count: bounds.count)

    mutating func record(nanoseconds: Int64, failed: Bool) {
        calls += 1
        if failed { failures += 1 }
        buckets[Self.bounds.firstIndex { nanoseconds <= $0 } ?? Self.bounds.count - 1] += 1
    }

    /// What happened between `earlier` and this.
    func since(_ earlier: MethodTally) -> MethodTally {
        var delta = MethodTally()
        delta.calls = calls - earlier.calls
        delta.failures = failures - earlier.failures
        delta.buckets = zip(buckets, earlier.buckets).map { $0 - $1 }
        return delta
    }

    /// The upper bound of the bucket holding the `q` quantile (0...1), in nanoseconds; nil without calls.
    func quantile(_ q: Double) -> Int64? {
        guard calls > 0 else { return nil }
        let target = max(1, Int((Double(calls) * q).rounded(.up)))
        var seen = 0
        for (index, count) in buckets.enumerated() {
            seen += count
            if seen >= target { return Self.bounds[index] }
        }
        return Self.bounds.last
    }
}
