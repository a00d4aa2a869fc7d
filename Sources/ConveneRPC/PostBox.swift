import Synchronization

/// Items posted from any thread and taken all at once by one consumer (a network event loop),
/// without a lock: posting pushes onto an atomic stack, and `drain` takes the whole stack.
/// `post` says when the box was empty, so that the poster schedules one drain for a batch.
///
/// With a lock, threads posting while the loop drained kept putting one another to sleep
/// (a futex wait per contended post).
public final class PostBox<Element>: @unchecked Sendable {
    /// One posted item; `next` is written before the node is published and read only by the
    /// drain that took it, so the stack's atomic orderings guard it.
    private final class Node {
        let element: Element
        var next: UInt = 0

        init(_ element: Element) { self.element = element }
    }

    /// The newest node (a retained `Unmanaged<Node>`'s address), 0 when empty.
    private let top = Atomic<UInt>(0)

    public init() {}

    deinit { _ = drain() }

    /// Keeps `element`; true when the box was empty (the caller schedules a drain).
    public func post(_ element: Element) -> Bool {
        let node = Unmanaged.passRetained(Node(element))
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

    /// Everything posted since the last drain, in the order it came (per posting thread).
    public func drain() -> [Element] {
        var address = top.exchange(0, ordering: .acquiring)
        var elements: [Element] = []
        while let pointer = UnsafeRawPointer(bitPattern: address) {
            let node = Unmanaged<Node>.fromOpaque(pointer).takeRetainedValue()
            elements.append(node.element)
            address = node.next
        }
        elements.reverse()
        return elements
    }
}
