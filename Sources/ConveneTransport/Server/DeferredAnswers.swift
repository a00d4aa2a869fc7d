import ConveneRPC
import NIOCore
import Synchronization

/// Answers of a connection's deferred unary handlers (plugin calls), given on other threads
/// and taken on the connection's event loop in batches: the first answer after a drain
/// schedules one task on the loop, and the answers that come while it waits ride along.
/// One `execute` per answer (a lock, and often a wake-up of the loop) was a tenth of a
/// trivial plugin call's cost at 64 calls in flight.
///
/// Lock-free: posting pushes onto an atomic stack and draining takes the whole stack at
/// once. With a lock, a plugin's threads posting answers while the loop drained them kept
/// putting one another to sleep (a futex wait per contended post).
final class DeferredAnswers: Sendable {
    typealias Answer = (streamID: UInt32, result: Result<ByteBuffer, any Error>)

    /// One posted answer; `next` is written before the node is published and read only by
    /// the drain that took it, so the stack's atomic orderings guard it.
    private final class Node: @unchecked Sendable {
        let answer: Answer
        var next: UInt = 0

        init(_ answer: Answer) { self.answer = answer }
    }

    /// The newest node (a retained `Unmanaged<Node>`'s address), 0 when empty.
    private let top = Atomic<UInt>(0)

    deinit { _ = drain() }

    /// Keeps `answer`; true when the caller must schedule a drain (nothing was waiting).
    func post(_ answer: Answer) -> Bool {
        let node = Unmanaged.passRetained(Node(answer))
        let address = UInt(bitPattern: node.toOpaque())
        var current = top.load(ordering: .relaxed)
        while true {
            node.takeUnretainedValue().next = current
            let (exchanged, found) = top.compareExchange(expected: current, desired: address,
                                                         successOrdering: .releasing, failureOrdering: .relaxed)
            if exchanged { return current == 0 }
            current = found
        }
    }

    /// Everything posted since the last drain, in the order it came.
    func drain() -> [Answer] {
        var address = top.exchange(0, ordering: .acquiring)
        var answers: [Answer] = []
        while let pointer = UnsafeRawPointer(bitPattern: address) {
            let node = Unmanaged<Node>.fromOpaque(pointer).takeRetainedValue()
            answers.append(node.answer)
            address = node.next
        }
        answers.reverse()
        return answers
    }
}
