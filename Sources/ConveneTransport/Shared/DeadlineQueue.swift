/// The deadlines of a connection's calls, earliest first (a binary min-heap).
///
/// Entries of calls that ended are not removed at once: they are skipped when they reach
/// the top, and swept when they outnumber the live ones, so memory stays bounded by the
/// open calls.
struct DeadlineQueue {
    private struct Entry {
        var deadline: ContinuousClock.Instant
        var streamID: UInt32
    }

    private var heap: [Entry] = []

    var isEmpty: Bool { heap.isEmpty }
    var count: Int { heap.count }

    var earliest: (deadline: ContinuousClock.Instant, streamID: UInt32)? {
        heap.first.map { ($0.deadline, $0.streamID) }
    }

    mutating func insert(_ deadline: ContinuousClock.Instant, streamID: UInt32) {
        heap.append(Entry(deadline: deadline, streamID: streamID))
        siftUp(heap.count - 1)
    }

    mutating func removeEarliest() {
        guard !heap.isEmpty else { return }
        heap.swapAt(0, heap.count - 1)
        heap.removeLast()
        siftDown(0)
    }

    /// Whether entries of ended calls are likely most of the queue (then `sweep`).
    func needsSweep(liveCount: Int) -> Bool {
        heap.count > 2 * liveCount + 16
    }

    /// Drops the entries of calls that are no longer live.
    mutating func sweep(isLive: (UInt32) -> Bool) {
        heap.removeAll { !isLive($0.streamID) }
        for index in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(index) }
    }

    private mutating func siftUp(_ index: Int) {
        var child = index
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].deadline < heap[parent].deadline else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ index: Int) {
        var parent = index
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < heap.count, heap[left].deadline < heap[smallest].deadline { smallest = left }
            if right < heap.count, heap[right].deadline < heap[smallest].deadline { smallest = right }
            guard smallest != parent else { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
