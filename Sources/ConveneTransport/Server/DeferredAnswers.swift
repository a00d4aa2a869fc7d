import ConveneRPC
import NIOCore

/// Answers of a connection's deferred unary handlers (plugin calls), given on other threads
/// and taken on the connection's event loop in batches: the first answer after a drain
/// schedules one task on the loop, and the answers that come while it waits ride along.
/// One `execute` per answer (a lock, and often a wake-up of the loop) was a tenth of a
/// trivial plugin call's cost at 64 calls in flight. Lock-free (`PostBox`).
final class DeferredAnswers: Sendable {
    typealias Answer = (streamID: UInt32, result: Result<ByteBuffer, any Error>)

    private let box = PostBox<Answer>()

    /// Keeps `answer`; true when the caller must schedule a drain (nothing was waiting).
    func post(_ answer: Answer) -> Bool { box.post(answer) }

    /// Everything posted since the last drain, in the order it came.
    func drain() -> [Answer] { box.drain() }
}
