import NIOCore
import Synchronization

/// The `UnaryCompletion` a transport gives a deferred unary handler: the first answer, from
/// any thread, goes to `deliver` (which hops to the connection's event loop); an early end of
/// the call (cancel, deadline, close), reported by the transport with `cancel()`, runs the
/// handler's cancellation instead, and later answers are dropped.
///
/// A transport may subclass it and override `deliver` (then it makes no closure per call).
open class DeferredCompletion: UnaryCompletion, @unchecked Sendable {
    private struct State: @unchecked Sendable {
        var answered = false
        var cancelled = false
        var onCancel: Cancellation?
        /// Let go of with the completion (`succeed(_:releasing:)`).
        var kept: AnyObject?
    }

    private let delivery: (@Sendable (Result<ByteBuffer, any Error>) -> Void)?
    /// Inline (no allocation of its own): one per deferred call.
    private let state = Mutex(State())

    public init(deliver: @escaping @Sendable (Result<ByteBuffer, any Error>) -> Void) {
        delivery = deliver
    }

    /// For a subclass that overrides `deliver`.
    public init() {
        delivery = nil
    }

    /// Takes the call's one answer (on the thread that gave it).
    open func deliver(_ result: Result<ByteBuffer, any Error>) {
        delivery?(result)
    }

    public final func succeed(_ response: ByteBuffer) { answer(.success(response)) }

    /// Keeps `object` until this completion is let go of, where its answer is taken.
    public final func succeed(_ response: ByteBuffer, releasing object: AnyObject) {
        answer(.success(response), keeping: object)
    }

    public final func fail(_ error: any Error) { answer(.failure(error)) }

    private func answer(_ result: Result<ByteBuffer, any Error>, keeping object: AnyObject? = nil) {
        // The cancellation handler is not let go of here but with the completion, where the
        // answer is taken: it was made there (a connection's event loop), and freeing it on
        // the answering thread made the two threads contend for the allocator on every call.
        let first = state.withLock { state -> Bool in
            guard !state.answered, !state.cancelled else { return false }
            state.answered = true
            state.kept = object
            return true
        }
        if first { deliver(result) }
    }

    public final func onCancel(_ body: @escaping @Sendable () -> Void) {
        onCancel(.closure(body))
    }

    public final func onCancel(telling target: any CallCancellation) {
        onCancel(.target(target))
    }

    private func onCancel(_ cancellation: Cancellation) {
        let now = state.withLock { state -> Bool in
            if state.cancelled { return true }
            state.onCancel = cancellation
            return false
        }
        if now { cancellation.run() }
    }

    /// The call ended before it was answered.
    public final func cancel() {
        let cancellation = state.withLock { state -> Cancellation? in
            guard !state.answered, !state.cancelled else { return nil }
            state.cancelled = true
            defer { state.onCancel = nil }
            return state.onCancel
        }
        cancellation?.run()
    }

    private enum Cancellation {
        case closure(@Sendable () -> Void)
        case target(any CallCancellation)

        func run() {
            switch self {
            case .closure(let body): body()
            case .target(let target): target.callCancelled()
            }
        }
    }
}
