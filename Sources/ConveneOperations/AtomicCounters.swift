import Synchronization

/// A fixed number of counters that any thread adds to without a lock (relaxed atomics): what a
/// call's end costs on the hot path is a few uncontended atomic adds, and readers (a scrape, the
/// status page) load each counter on its own.
final class AtomicCounters: @unchecked Sendable {  // the slots are atomics, allocated once
    let count: Int
    private let slots: UnsafeMutablePointer<Atomic<Int>>

    init(count: Int) {
        self.count = count
        slots = .allocate(capacity: count)
        for index in 0..<count { (slots + index).initialize(to: Atomic(0)) }
    }

    deinit {
        slots.deinitialize(count: count)
        slots.deallocate()
    }

    /// Adds `amount` to counter `index` (0..<count: the caller computes it from fixed tables).
    @inline(__always)
    func add(_ amount: Int, at index: Int) {
        slots[index].wrappingAdd(amount, ordering: .relaxed)
    }

    func value(at index: Int) -> Int {
        slots[index].load(ordering: .relaxed)
    }
}
