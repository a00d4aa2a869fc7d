import Foundation

/// How many of a plugin's threads its queue needs looking at it, from how long its hooks
/// typically run: a queue of hooks that take a microsecond each is best served by the one
/// thread already awake (waking a second costs more than the hooks), while hooks that take
/// milliseconds each want every thread the plugin may have. Pure arithmetic; the executor's
/// monitor guards it.
struct HookPacing: Sendable {
    /// How long a queued hook should wait, at most, for a thread (nanoseconds).
    static let queueWait: UInt64 = 100_000
    /// A hook running for longer than this (and than four times the typical hook) is not
    /// expected to end soon: its thread does not count as one about to take the next hook.
    static let minimumOverrun: UInt64 = 20_000

    /// Longest the answers of a thread's hooks are held back while it runs the next ones
    /// (nanoseconds): their connections' loops are then woken once for the batch.
    static let answerHold: UInt64 = 50_000

    /// A moving average of how long hooks ran (nanoseconds, weight 1/8); nil until one ended.
    /// A sample counts for at most twice the average: a hook whose thread was descheduled
    /// (two cores shared by the network, the plugin and the client) or waited for a lock says
    /// little of how long hooks take, and one such outlier used to wake every thread for a
    /// while; hooks that really grow longer still move the average up by an eighth each.
    private(set) var typicalNanos: UInt64?

    /// `typicalNanos`: what is known already (tests start from a known length).
    init(typicalNanos: UInt64? = nil) { self.typicalNanos = typicalNanos }

    mutating func record(nanos sample: UInt64) {
        guard let typical = typicalNanos else {
            typicalNanos = sample
            return
        }
        let nanos = min(sample, max(saturating(typical, times: 2), 1_000))
        let delta = nanos > typical ? (nanos - typical) / 8 : 0
        let drop = typical > nanos ? (typical - nanos) / 8 : 0
        typicalNanos = typical + delta - drop
    }

    /// Whether a hook running for `elapsed` nanoseconds is expected to end soon, so that its
    /// thread will take the next queued hook. Never, before any hook ended: then nothing is
    /// known, and a queued hook must not wait behind one that may never end.
    func endsSoon(elapsed: UInt64) -> Bool {
        guard let typical = typicalNanos else { return false }
        return elapsed < max(Self.minimumOverrun, saturating(typical, times: 4))
    }

    /// Whether a thread that has held back answers since `since` runs the next of `queued`
    /// hooks before waking their loops: while hooks are short and the hold is younger than `limit`.
    func holdsAnswers(queued: Int, since: UInt64, now: UInt64, limit: UInt64 = HookPacing.answerHold) -> Bool {
        guard queued > 0, let typical = typicalNanos, typical < Self.minimumOverrun else { return false }
        return now &- since < limit
    }

    /// How many threads should be looking at a queue of `backlog` hooks so that none waits
    /// much longer than `queueWait`: one per hook until their length is known.
    func lookersNeeded(backlog: Int) -> Int {
        guard backlog > 0 else { return 0 }
        guard let typical = typicalNanos else { return backlog }
        let work = UInt64(backlog).multipliedReportingOverflow(by: max(typical, 1))
        guard !work.overflow else { return backlog }
        return Int(min(UInt64(backlog), max(1, (work.partialValue + Self.queueWait - 1) / Self.queueWait)))
    }
}

private func saturating(_ value: UInt64, times factor: UInt64) -> UInt64 {
    let (product, overflow) = value.multipliedReportingOverflow(by: factor)
    return overflow ? .max : product
}

/// The monotonic clock in nanoseconds (vDSO: no system call).
@inline(__always)
func monotonicNanos() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
}
