import InMemoryTracing
import Tracing
import W3CTraceContext

/// The in-memory tracer of swift-distributed-tracing, reading the caller's trace from a W3C
/// `traceparent` in the carrier (as OpenTelemetry's W3C propagator does), so a test sees a
/// call continue the trace a real caller would send.
struct W3CTestTracer: Tracer {
    let recorder = InMemoryTracer()

    func startSpan<Instant: TracerInstant>(_ operationName: String, context: @autoclosure () -> InstrumentationContext,
                                           ofKind kind: SpanKind, at instant: @autoclosure () -> Instant,
                                           function: String, file fileID: String, line: UInt) -> InMemorySpan {
        recorder.startSpan(operationName, context: context(), ofKind: kind, at: instant(), function: function, file: fileID, line: line)
    }

    func activeSpan(identifiedBy context: InstrumentationContext) -> InMemorySpan? {
        recorder.activeSpan(identifiedBy: context)
    }

    func forceFlush() { recorder.forceFlush() }

    func extract<Carrier, Extract: Extractor>(_ carrier: Carrier, into context: inout InstrumentationContext, using extractor: Extract)
        where Extract.Carrier == Carrier {
        guard let header = extractor.extract(key: "traceparent", from: carrier),
              let parent = try? TraceContext(traceParentHeaderValue: header) else { return }
        context.inMemorySpanContext = InMemorySpanContext(traceID: "\(parent.traceID)", spanID: "\(parent.spanID)", parentSpanID: nil)
    }

    func inject<Carrier, Inject: Injector>(_ context: InstrumentationContext, into carrier: inout Carrier, using injector: Inject)
        where Inject.Carrier == Carrier {
        recorder.inject(context, into: &carrier, using: injector)
    }
}
