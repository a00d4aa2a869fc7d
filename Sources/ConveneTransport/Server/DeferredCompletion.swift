import ConveneRPC
import NIOCore

/// The `UnaryCompletion` of a deferred unary call: an answer from any thread hops once to
/// the connection's event loop; an early end of the call (cancel, deadline, close) runs the
/// handler's cancellation, on the event loop.
final class DeferredCompletion: UnaryCompletion, @unchecked Sendable {
    private struct State {
        var answered = false
        var cancelled = false
        var onCancel: (@Sendable () -> Void)?
    }

    private let handler: NIOLoopBound<ServerConnectionHandler>
    private let streamID: UInt32
    private let state = Locked(State())

    init(handler: NIOLoopBound<ServerConnectionHandler>, streamID: UInt32) {
        self.handler = handler
        self.streamID = streamID
    }

    func succeed(_ response: ByteBuffer) { answer(.success(response)) }

    func fail(_ error: any Error) { answer(.failure(error)) }

    private func answer(_ result: Result<ByteBuffer, any Error>) {
        let first = state.withLock { state -> Bool in
            guard !state.answered, !state.cancelled else { return false }
            state.answered = true
            state.onCancel = nil
            return true
        }
        guard first else { return }
        let handler = self.handler
        let id = streamID
        handler.eventLoop.execute { handler.value.deferredFinished(streamID: id, result) }
    }

    func onCancel(_ body: @escaping @Sendable () -> Void) {
        let now = state.withLock { state -> Bool in
            if state.cancelled { return true }
            state.onCancel = body
            return false
        }
        if now { body() }
    }

    /// The call ended before it was answered (on the event loop).
    func cancel() {
        let body = state.withLock { state -> (@Sendable () -> Void)? in
            guard !state.answered, !state.cancelled else { return nil }
            state.cancelled = true
            defer { state.onCancel = nil }
            return state.onCancel
        }
        body?()
    }
}
