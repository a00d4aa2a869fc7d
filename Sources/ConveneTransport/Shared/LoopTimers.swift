import ConveneRPC
import NIOCore

/// One wake-up per connection, for many connections on one event loop, behind one NIO timer.
///
/// NIO keeps an event loop's scheduled tasks in a heap whose `cancel` searches it linearly,
/// so N connections closing at once, each cancelling a timer of its own, cost O(N²) (in a
/// debug build, 15,000 connections took a minute of CPU). Here a connection owns a
/// `LoopTimer`; arming or cancelling it bumps its generation (O(1)), an entry whose
/// generation is stale is skipped when it comes up, and stale entries are swept when they
/// outnumber the live ones. Confined to its event loop.
package final class LoopTimers: LoopShared {
    private struct Entry: Comparable {
        var deadline: NIODeadline
        var generation: UInt64
        weak var timer: LoopTimer?

        var isLive: Bool { timer.map { $0.generation == generation } ?? false }
        static func < (a: Entry, b: Entry) -> Bool { a.deadline < b.deadline }
        static func == (a: Entry, b: Entry) -> Bool { a.deadline == b.deadline && a.generation == b.generation }
    }

    package let eventLoop: any EventLoop
    private var heap = MinHeap<Entry>()
    private var scheduled: (deadline: NIODeadline, task: Scheduled<Void>)?
    /// Timers armed now (each has one live entry).
    private var armed = 0

    package init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    // MARK: - Arming

    fileprivate func arm(_ timer: LoopTimer, at deadline: NIODeadline) {
        if timer.deadline == nil { armed += 1 }
        timer.generation &+= 1
        timer.deadline = deadline
        heap.insert(Entry(deadline: deadline, generation: timer.generation, timer: timer))
        if scheduled.map({ deadline < $0.deadline }) ?? true { reschedule() }
        if heap.count > 2 * armed + 64 { heap.filter(\.isLive) }
    }

    fileprivate func disarm(_ timer: LoopTimer) {
        guard timer.deadline != nil else { return }
        armed -= 1
        timer.generation &+= 1
        timer.deadline = nil
    }

    private func reschedule() {
        scheduled?.task.cancel()
        scheduled = nil
        guard let next = heap.first?.deadline else { return }
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        let task = eventLoop.scheduleTask(deadline: next) { bound.value.fire() }
        scheduled = (next, task)
    }

    private func fire() {
        scheduled = nil
        let now = eventLoop.now
        var due: [LoopTimer] = []
        while let top = heap.first, top.deadline <= now {
            heap.removeFirst()
            guard top.isLive, let timer = top.timer else { continue }
            armed -= 1
            timer.deadline = nil
            due.append(timer)
        }
        reschedule()
        for timer in due { timer.fire() }
    }
}

/// A connection's one wake-up, on its event loop's `LoopTimers`. Confined to that loop.
package final class LoopTimer {
    private let timers: LoopTimers
    private let action: () -> Void
    fileprivate var generation: UInt64 = 0
    /// When it is armed for; nil when it is not.
    package fileprivate(set) var deadline: NIODeadline?

    /// `action` runs on the loop when the timer fires; it should hold its target weakly
    /// or through the connection, which disarms the timer when it goes.
    package init(on eventLoop: any EventLoop, _ action: @escaping () -> Void) {
        self.timers = LoopTimers.on(eventLoop)
        self.action = action
    }

    /// Arms (or re-arms) the timer for `deadline`.
    package func arm(at deadline: NIODeadline) {
        timers.arm(self, at: deadline)
    }

    package func cancel() {
        timers.disarm(self)
    }

    fileprivate func fire() {
        action()
    }
}
