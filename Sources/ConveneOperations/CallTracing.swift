import ConveneRPC
import NIOCore
import Tracing

/// A span for every call, child of the caller's trace when the call's metadata carries one
/// (W3C `traceparent`, or whatever the tracer propagates: it reads the metadata itself).
/// Handlers run with the span's context as the task's current context, so the spans they
/// open (a store transaction, a plugin call) nest under it. Made only when a tracer is
/// configured: otherwise handlers are served unwrapped and cost nothing more.
struct CallTracing: Sendable {
    let tracer: any Tracer

    init(tracer: any Tracer) { self.tracer = tracer }

    func wrap(_ handler: MethodHandler, for descriptor: MethodDescriptor) -> MethodHandler {
        let name = descriptor.description
        switch handler {
        case .synchronousUnary(let body):
            return .synchronousUnary { [tracer] request, context in
                let span = Self.start(tracer, name, metadata: context.requestMetadata)
                defer { span.end() }
                do {
                    return try InstrumentationContext.withValue(span.context) { try body(request, &context) }
                } catch {
                    Self.fail(span, error)
                    throw error
                }
            }
        case .deferredUnary(let body):
            return .deferredUnary { [tracer] request, context, completion in
                let span = Self.start(tracer, name, metadata: context.requestMetadata)
                InstrumentationContext.withValue(span.context) {
                    body(request, context, SpanCompletion(completion, span: span))
                }
            }
        case .asynchronous(let body):
            return .asynchronous { [tracer] requests, writer, context in
                let span = Self.start(tracer, name, metadata: context.requestMetadata)
                defer { span.end() }
                do {
                    try await InstrumentationContext.withValue(span.context) { try await body(requests, writer, context) }
                } catch {
                    Self.fail(span, error)
                    throw error
                }
            }
        }
    }

    static func start(_ tracer: any Tracer, _ name: String, metadata: Metadata) -> any Span {
        var context = InstrumentationContext.topLevel
        tracer.extract(metadata, into: &context, using: MetadataExtractor())
        let span = tracer.startAnySpan(name, context: context, ofKind: .server)
        span.attributes["rpc.system"] = "convene"
        span.attributes["rpc.method"] = name
        return span
    }

    static func fail(_ span: any Span, _ error: any Error) {
        let rpcError = RPCError.from(error)
        span.attributes["rpc.status_code"] = Int(rpcError.code.rawValue)
        span.recordError(error)
        span.setStatus(SpanStatus(code: .error, message: rpcError.message))
    }
}

/// A deferred call's completion that ends its span with the answer, or when the call ends
/// unanswered (cancelled, past its deadline).
final class SpanCompletion: UnaryCompletion, @unchecked Sendable {
    private let base: any UnaryCompletion
    private let span: any Span
    private let state = Locked<(ended: Bool, onCancel: (@Sendable () -> Void)?)>((false, nil))

    init(_ base: any UnaryCompletion, span: any Span) {
        self.base = base
        self.span = span
        base.onCancel { [self] in
            let handler = state.withLock { state -> (@Sendable () -> Void)? in
                defer { state.onCancel = nil }
                return state.onCancel
            }
            end(RPCError(.cancelled, "the call ended before it was answered"))
            handler?()
        }
    }

    func succeed(_ response: ByteBuffer) {
        end(nil)
        base.succeed(response)
    }

    func succeed(_ response: ByteBuffer, releasing object: AnyObject) {
        end(nil)
        base.succeed(response, releasing: object)
    }

    func fail(_ error: any Error) {
        end(error)
        base.fail(error)
    }

    func onCancel(_ handler: @escaping @Sendable () -> Void) {
        let cancelled = state.withLock { state -> Bool in
            if state.ended { return true }
            state.onCancel = handler
            return false
        }
        // Ended already: cancelled (run it, as the base would) or answered (it never runs).
        if cancelled { base.onCancel(handler) }
    }

    private func end(_ error: (any Error)?) {
        let first = state.withLock { state -> Bool in
            defer { state.ended = true }
            return !state.ended
        }
        guard first else { return }
        if let error { CallTracing.fail(span, error) }
        span.end()
    }
}

/// Reads trace context from call metadata (text values; keys are lowercase).
struct MetadataExtractor: Extractor {
    func extract(key: String, from carrier: Metadata) -> String? {
        carrier[key.lowercased()]
    }
}

/// Writes trace context into call metadata, for calls the server makes on a caller's behalf.
public struct MetadataInjector: Injector {
    public init() {}
    public func inject(_ value: String, forKey key: String, into carrier: inout Metadata) {
        carrier.removeAll(key.lowercased())
        carrier.add(key.lowercased(), value)
    }
}
