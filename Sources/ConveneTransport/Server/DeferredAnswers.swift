import ConveneRPC
import NIOCore
import Synchronization

/// An answer a `DeferredAnswers` box holds: the object itself is the box's node (posting
/// makes nothing). `result` and `postedNext` are written before the answer is posted and
/// read only by the drain that takes it, so the box's atomic orderings guard them.
protocol PostedAnswer: AnyObject {
    var streamID: UInt32 { get }
    var result: Result<ByteBuffer, any Error>? { get }
    /// The answer posted before it (a retained address), 0 for none.
    var postedNext: UInt { get set }
}

/// Answers of a connection's deferred unary handlers (plugin calls), given on other threads
/// and taken on the connection's event loop in batches: the first answer after a drain
/// schedules one task on the loop, and the answers that come while it waits ride along.
/// One `execute` per answer (a lock, and often a wake-up of the loop) was a tenth of a
/// trivial plugin call's cost at 64 calls in flight.
///
/// Lock-free: posting pushes onto an atomic stack and `drain` takes the whole stack (with a
/// lock, threads posting while the loop drained kept putting one another to sleep).
final class DeferredAnswers<Answer: PostedAnswer>: @unchecked Sendable {
    /// The newest answer (a retained `Unmanaged` address), 0 when empty.
    private let top = Atomic<UInt>(0)

    deinit { _ = drain() }

    /// Keeps `answer`; true when the caller must schedule a drain (nothing was waiting).
    func post(_ answer: Answer) -> Bool {
        let address = UInt(bitPattern: Unmanaged.passRetained(answer).toOpaque())
        var current = top.load(ordering: .relaxed)
        while true {
            answer.postedNext = current
            let (exchanged, found) = top.compareExchange(expected: current, desired: address,
                                                         successOrdering: .releasing, failureOrdering: .relaxed)
            if exchanged { return current == 0 }
            current = found
        }
    }

    /// Everything posted since the last drain, in the order it came (per posting thread).
    func drain() -> [Answer] {
        var address = top.exchange(0, ordering: .acquiring)
        var answers: [Answer] = []
        while let pointer = UnsafeRawPointer(bitPattern: address) {
            let answer = Unmanaged<Answer>.fromOpaque(pointer).takeRetainedValue()
            address = answer.postedNext
            answer.postedNext = 0
            answers.append(answer)
        }
        answers.reverse()
        return answers
    }
}

/// A deferred call's completion on a native connection, and its answer's node in the
/// connection's box: a plugin call makes no closure and no node for its answer.
final class ConnectionCompletion: DeferredCompletion, PostedAnswer, LoopWakeup, @unchecked Sendable {
    let streamID: UInt32
    private let answers: DeferredAnswers<ConnectionCompletion>
    private let connection: NIOLoopBound<ServerConnectionHandler>
    private(set) var result: Result<ByteBuffer, any Error>?
    var postedNext: UInt = 0

    init(streamID: UInt32, answers: DeferredAnswers<ConnectionCompletion>, connection: NIOLoopBound<ServerConnectionHandler>) {
        self.streamID = streamID
        self.answers = answers
        self.connection = connection
        super.init()
    }

    /// Posts the answer; the first post after a drain schedules the next drain on the loop,
    /// now or when the answering thread stops holding wake-ups back (`HeldWakeups`).
    override func deliver(_ result: Result<ByteBuffer, any Error>) {
        self.result = result
        guard answers.post(self) else { return }  // a drain is already on its way
        HeldWakeups.wake(self)
    }

    /// Schedules the drain of the connection's answers on its loop.
    func wakeLoop() {
        let answers = self.answers
        let connection = self.connection
        connection.eventLoop.execute {
            connection.value.deferredFinished(answers.drain())
        }
    }
}
