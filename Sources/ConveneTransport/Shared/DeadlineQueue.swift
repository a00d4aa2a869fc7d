/// The deadlines of a connection's calls, earliest first.
///
/// Entries of calls that ended are not removed at once: they are skipped when they reach
/// the top, and swept when they outnumber the live ones, so memory stays bounded by the
/// open calls.
package struct DeadlineQueue {
    private struct Entry: Comparable {
        var deadline: MonotonicInstant
        var streamID: UInt32
        static func < (a: Entry, b: Entry) -> Bool { a.deadline < b.deadline }
    }

    private var heap = MinHeap<Entry>()

    package init() {}

    package var isEmpty: Bool { heap.isEmpty }
    package var count: Int { heap.count }

    package var earliest: (deadline: MonotonicInstant, streamID: UInt32)? {
        heap.first.map { ($0.deadline, $0.streamID) }
    }

    package mutating func insert(_ deadline: MonotonicInstant, streamID: UInt32) {
        heap.insert(Entry(deadline: deadline, streamID: streamID))
    }

    package mutating func removeEarliest() {
        heap.removeFirst()
    }

    /// Whether entries of ended calls are likely most of the queue (then `sweep`).
    package func needsSweep(liveCount: Int) -> Bool {
        heap.count > 2 * liveCount + 16
    }

    /// Drops the entries of calls that are no longer live.
    package mutating func sweep(isLive: (UInt32) -> Bool) {
        heap.filter { isLive($0.streamID) }
    }
}
