import ConveneRPC
import Foundation

/// What the status page shows of the server that the metrics do not know.
public struct ServerStatus: Sendable {
    public struct Listener: Sendable {
        public var name: String
        public var address: String
        public init(name: String, address: String) { self.name = name; self.address = address }
    }

    public struct Plugin: Sendable {
        public var name: String
        public var version: String
        /// "serving", "degraded", "failed", ...
        public var state: String
        public var detail: String
        public init(name: String, version: String, state: String, detail: String = "") {
            self.name = name; self.version = version; self.state = state; self.detail = detail
        }
    }

    public var version: String
    public var started: Date
    public var listeners: [Listener]
    public var plugins: [Plugin]

    public init(version: String, started: Date, listeners: [Listener], plugins: [Plugin]) {
        self.version = version
        self.started = started
        self.listeners = listeners
        self.plugins = plugins
    }
}

/// Samples every method's tallies at a fixed interval and keeps the last hour of samples,
/// so the page can show rates, error rates and latency over the latest interval, and a plot.
public final class StatusSampler: Sendable {
    struct Sample: Sendable {
        var time: ContinuousClock.Instant
        var methods: [String: (descriptor: MethodDescriptor, owner: String, tally: MethodTally)]
    }

    let metrics: ServerMetrics
    let capacity: Int
    private let samples = Locked<[Sample]>([])

    public init(metrics: ServerMetrics, capacity: Int = 720) {
        self.metrics = metrics
        self.capacity = capacity
    }

    /// Takes a sample now (the server calls this every few seconds; tests call it directly).
    public func sample(at time: ContinuousClock.Instant = .now) {
        var methods: [String: (descriptor: MethodDescriptor, owner: String, tally: MethodTally)] = [:]
        for entry in metrics.tallies() { methods[entry.descriptor.path] = entry }
        samples.withLock { samples in
            samples.append(Sample(time: time, methods: methods))
            if samples.count > capacity { samples.removeFirst(samples.count - capacity) }
        }
    }

    /// Per method, over the span between the two latest samples.
    struct MethodRate {
        var descriptor: MethodDescriptor
        var owner: String
        var callsPerSecond: Double
        var errorRate: Double
        var p50: Int64?
        var p99: Int64?
        var total: Int
    }

    func latestRates() -> [MethodRate] {
        let (previous, latest) = samples.withLock { ($0.count >= 2 ? $0[$0.count - 2] : nil, $0.last) }
        guard let latest else { return [] }
        let seconds = previous.map { Self.seconds(latest.time - $0.time) } ?? 0
        return latest.methods.values.map { entry in
            let delta = previous?.methods[entry.descriptor.path].map { entry.tally.since($0.tally) } ?? entry.tally
            return MethodRate(descriptor: entry.descriptor, owner: entry.owner,
                              callsPerSecond: seconds > 0 ? Double(delta.calls) / seconds : 0,
                              errorRate: delta.calls > 0 ? Double(delta.failures) / Double(delta.calls) : 0,
                              p50: delta.quantile(0.5), p99: delta.quantile(0.99), total: entry.tally.calls)
        }
    }

    /// Across all methods, for each interval between samples: calls/s, p50 and p99.
    struct Point {
        var callsPerSecond: Double
        var p50: Int64?
        var p99: Int64?
    }

    func history() -> [Point] {
        let samples = samples.withLock { $0 }
        guard samples.count >= 2 else { return [] }
        return zip(samples, samples.dropFirst()).map { earlier, later in
            var total = MethodTally()
            for (path, entry) in later.methods {
                let delta = earlier.methods[path].map { entry.tally.since($0.tally) } ?? entry.tally
                total.calls += delta.calls
                total.failures += delta.failures
                total.buckets = zip(total.buckets, delta.buckets).map(+)
            }
            let seconds = Self.seconds(later.time - earlier.time)
            return Point(callsPerSecond: seconds > 0 ? Double(total.calls) / seconds : 0,
                         p50: total.quantile(0.5), p99: total.quantile(0.99))
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
