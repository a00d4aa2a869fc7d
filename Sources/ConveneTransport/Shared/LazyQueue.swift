import NIOCore

/// A first-in first-out queue that allocates nothing until its first element: a
/// `CircularBuffer` allocates as it is made, and most connections never queue anything in
/// the queues that use this (streams waiting for connection credit, calls deferred for
/// room to answer), so each connection would pay for them as it opens.
struct LazyQueue<Element> {
    private var storage: CircularBuffer<Element>?

    var isEmpty: Bool { storage?.isEmpty ?? true }

    mutating func append(_ element: Element) {
        var buffer = storage.take() ?? CircularBuffer(initialCapacity: 4)
        buffer.append(element)
        storage = buffer
    }

    /// Puts `element` at the head of the line.
    mutating func prepend(_ element: Element) {
        var buffer = storage.take() ?? CircularBuffer(initialCapacity: 4)
        buffer.prepend(element)
        storage = buffer
    }

    /// The oldest element, taken off the queue; nil when it is empty.
    mutating func popFirst() -> Element? {
        guard var buffer = storage.take() else { return nil }
        let first = buffer.popFirst()
        storage = buffer
        return first
    }
}

/// The elements, oldest first.
extension LazyQueue: Sequence {
    struct Iterator: IteratorProtocol {
        fileprivate var elements: CircularBuffer<Element>.Iterator?

        mutating func next() -> Element? { elements?.next() }
    }

    func makeIterator() -> Iterator { Iterator(elements: storage?.makeIterator()) }
}
