import ConveneOperations
import ConveneStore
import Tracing

/// The store, timed: each transaction's latency goes to the metrics, and, when a tracer is
/// configured, each is a span under the call that made it.
struct InstrumentedStore: ConveneStore {
    let base: any ConveneStore
    let metrics: ServerMetrics
    let tracer: (any Tracer)?
    /// OpenTelemetry's name of the database ("sqlite", "postgresql").
    let system: String

    func read<T: Sendable>(_ body: @escaping @Sendable (any StoreReader) throws -> T) async throws -> T {
        try await timed("read") { try await base.read(body) }
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (any StoreWriter) throws -> T) async throws -> T {
        try await timed("write") { try await base.write(body) }
    }

    private func timed<T>(_ kind: String, _ operation: () async throws -> T) async throws -> T {
        let started = ContinuousClock.now
        defer { metrics.storeTransaction(kind, duration: .now - started) }
        guard let tracer else { return try await operation() }
        let span = tracer.startSpan("store.\(kind)", context: InstrumentationContext.current ?? .topLevel, ofKind: .client)
        defer { span.end() }
        span.attributes["db.system"] = system
        do {
            return try await operation()
        } catch {
            span.recordError(error)
            throw error
        }
    }
}
