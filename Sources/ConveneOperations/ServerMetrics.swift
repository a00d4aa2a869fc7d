import ConveneRPC
import CoreMetrics
import Prometheus
import Tracing

/// The server's metrics, in the Prometheus text format through swift-metrics and
/// swift-prometheus, on a registry of its own (so several servers can live in one process, as
/// in tests): calls by service, method, transport and status; latency per method; connections,
/// bytes, GOAWAYs and refusals by reason; store transactions; build information.
public final class ServerMetrics: RouterInstrumentation, ConnectionObserver {
    public enum Names {
        public static let calls = "convene_calls_total"
        public static let callDuration = "convene_call_duration_seconds"
        public static let unknownMethodCalls = "convene_unknown_method_calls_total"
        public static let connections = "convene_connections"
        public static let bytes = "convene_bytes_total"
        public static let goAways = "convene_goaways_total"
        public static let refusals = "convene_refusals_total"
        public static let storeTransactions = "convene_store_transaction_duration_seconds"
        public static let storeRetries = "convene_store_retries_total"
        public static let buildInfo = "convene_build_info"
    }

    public let registry = PrometheusCollectorRegistry()
    let factory: PrometheusMetricsFactory
    /// Spans for every call, when a tracer is given (none: handlers are served unwrapped).
    let tracing: CallTracing?
    private let methods = Locked<[String: MethodMetrics]>([:])
    /// One per transport, in `TransportKind.allCases` order (found by `transportMetrics(_:)`,
    /// not hashed: bytes are reported on every read batch).
    private let perTransport: [TransportMetrics]
    private let storeLatency: [String: CoreMetrics.Timer]
    private let storeRetries: CoreMetrics.Counter

    public init(version: String, tracer: (any Tracer)? = nil) {
        var factory = PrometheusMetricsFactory(registry: registry)
        let callBuckets: [Duration] = MethodTally.bounds.dropLast().map { .nanoseconds($0) }
        factory.durationHistogramBuckets = [Names.storeTransactions: callBuckets]
        self.factory = factory
        self.tracing = tracer.map(CallTracing.init)
        self.perTransport = TransportKind.allCases.map { TransportMetrics(transport: $0, factory: factory) }
        self.storeLatency = Dictionary(uniqueKeysWithValues: ["read", "write"].map {
            ($0, CoreMetrics.Timer(label: Names.storeTransactions, dimensions: [("kind", $0)], factory: factory))
        })
        self.storeRetries = CoreMetrics.Counter(label: Names.storeRetries, factory: factory)
        CoreMetrics.Gauge(label: Names.buildInfo, dimensions: [("version", version)], factory: factory).record(1)
    }

    // MARK: RouterInstrumentation

    public func instrument(for descriptor: MethodDescriptor, owner: String) -> any MethodInstrument {
        methods.withLock { methods in
            if let existing = methods[descriptor.path] { return existing }  // a plugin reloaded: same series
            let metrics = MethodMetrics(descriptor: descriptor, owner: owner)
            methods[descriptor.path] = metrics
            return metrics
        }
    }

    public func wrap(_ handler: MethodHandler, for descriptor: MethodDescriptor) -> MethodHandler {
        tracing?.wrap(handler, for: descriptor) ?? handler
    }

    public func unknownMethodCalled(transport: TransportKind) {
        transportMetrics(transport).unknownMethods.increment()
    }

    // MARK: ConnectionObserver

    public func connectionOpened(_ transport: TransportKind) { transportMetrics(transport).connections.increment() }
    public func connectionClosed(_ transport: TransportKind) { transportMetrics(transport).connections.decrement() }

    public func bytes(_ transport: TransportKind, read: Int, written: Int) {
        let metrics = transportMetrics(transport)
        if read > 0 { metrics.bytesRead.increment(by: read) }
        if written > 0 { metrics.bytesWritten.increment(by: written) }
    }

    public func goAway(_ transport: TransportKind, code: String) {
        transportMetrics(transport).goAway(code).increment()
    }

    public func refused(_ transport: TransportKind, reason: RefusalReason) {
        transportMetrics(transport).refusals[reason]?.increment()
    }

    // MARK: Store

    /// A store transaction ("read" or "write") took `duration`, after `retries` retries.
    public func storeTransaction(_ kind: String, duration: Duration, retries: Int = 0) {
        storeLatency[kind]?.recordNanoseconds(duration.saturatingNanoseconds)
        if retries > 0 { storeRetries.increment(by: retries) }
    }

    /// A store transaction is run again after a conflict (a store that retries inside, such as
    /// PostgreSQL's, reports each retry as it happens).
    public func storeRetried() {
        storeRetries.increment()
    }

    // MARK: Reading

    /// Every method's running tallies, for the status page.
    func tallies() -> [(descriptor: MethodDescriptor, owner: String, tally: MethodTally)] {
        methods.withLock { Array($0.values) }.map { ($0.descriptor, $0.owner, $0.tally) }
    }

    /// Open connections per transport.
    public func openConnections() -> [TransportKind: Int] {
        Dictionary(uniqueKeysWithValues: TransportKind.allCases.map { ($0, transportMetrics($0).connections.value) })
    }

    private func transportMetrics(_ transport: TransportKind) -> TransportMetrics {
        switch transport {
        case .native: perTransport[0]
        case .grpc: perTransport[1]
        case .inProcess: perTransport[2]
        }
    }

    /// The Prometheus text exposition of every metric: the registry's, then the calls'.
    public func exposition() -> String {
        var text = registry.emitToString()
        CallMetricsExposition.render(methods.withLock { Array($0.values) }, into: &text)
        return text
    }
}

/// The metrics of one transport's connections.
final class TransportMetrics: Sendable {
    let connections: OpenCount
    let unknownMethods: CoreMetrics.Counter
    let bytesRead: CoreMetrics.Counter
    let bytesWritten: CoreMetrics.Counter
    let refusals: [RefusalReason: CoreMetrics.Counter]
    private let goAways = Locked<[String: CoreMetrics.Counter]>([:])
    private let transport: TransportKind
    private let factory: PrometheusMetricsFactory

    init(transport: TransportKind, factory: PrometheusMetricsFactory) {
        self.transport = transport
        self.factory = factory
        let label = ("transport", transport.rawValue)
        connections = OpenCount(gauge: CoreMetrics.Gauge(label: ServerMetrics.Names.connections, dimensions: [label], factory: factory))
        unknownMethods = CoreMetrics.Counter(label: ServerMetrics.Names.unknownMethodCalls, dimensions: [label], factory: factory)
        bytesRead = CoreMetrics.Counter(label: ServerMetrics.Names.bytes, dimensions: [label, ("direction", "in")], factory: factory)
        bytesWritten = CoreMetrics.Counter(label: ServerMetrics.Names.bytes, dimensions: [label, ("direction", "out")], factory: factory)
        refusals = Dictionary(uniqueKeysWithValues: RefusalReason.allCases.map {
            ($0, CoreMetrics.Counter(label: ServerMetrics.Names.refusals, dimensions: [label, ("reason", $0.rawValue)], factory: factory))
        })
    }

    /// GOAWAY codes are a small fixed set of names; each gets its series on first use.
    func goAway(_ code: String) -> CoreMetrics.Counter {
        goAways.withLock { counters in
            if let counter = counters[code] { return counter }
            let counter = CoreMetrics.Counter(label: ServerMetrics.Names.goAways,
                                              dimensions: [("transport", transport.rawValue), ("code", code)], factory: factory)
            counters[code] = counter
            return counter
        }
    }
}

/// A gauge of things open, with the count kept here so the status page can read it.
final class OpenCount: Sendable {
    private let gauge: CoreMetrics.Gauge
    private let count = Locked(0)

    init(gauge: CoreMetrics.Gauge) { self.gauge = gauge }

    func increment() { gauge.record(count.withLock { $0 += 1; return $0 }) }
    func decrement() { gauge.record(count.withLock { $0 = max(0, $0 - 1); return $0 }) }
    var value: Int { count.withLock { $0 } }
}
