@testable import ConvenePluginHost
import ConveneRPC
import Foundation
import NIOCore
import NIOPosix
import XCTest

/// A plugin's threads: hooks submitted on an event loop wake them once, at the end of the
/// loop's turn, as many as the hooks' typical length needs, and none of them waits for long
/// behind a hook that is still running.
final class PluginExecutorTests: XCTestCase {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    override func tearDown() async throws {
        try await group.shutdownGracefully()
    }

    func testABurstSubmittedInOneTurnOfALoopAllRuns() throws {
        let executor = PluginExecutor(name: "burst", concurrency: 4, maxStuck: 4)
        defer { executor.shutDown() }
        let done = DispatchSemaphore(value: 0)
        try group.next().submit {
            for _ in 0..<64 { XCTAssertTrue(executor.submit(PluginExecutor.Job { done.signal() })) }
        }.wait()
        let deadline = DispatchTime.now() + 10
        for index in 0..<64 where done.wait(timeout: deadline) != .success {
            return XCTFail("job \(index) and later never ran")
        }
    }

    func testAHookSubmittedOnALoopDoesNotWaitBehindOneStillRunning() throws {
        let executor = PluginExecutor(name: "busy", concurrency: 2, maxStuck: 2)
        defer { executor.shutDown() }
        let started = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let second = DispatchSemaphore(value: 0)
        let loop = group.next()
        try loop.submit { _ = executor.submit(PluginExecutor.Job { started.signal(); release.wait() }) }.wait()
        XCTAssertEqual(started.wait(timeout: .now() + 10), .success)
        try loop.submit { _ = executor.submit(PluginExecutor.Job { second.signal() }) }.wait()
        XCTAssertEqual(second.wait(timeout: .now() + 10), .success, "the second hook ran on the plugin's other thread")
        release.signal()
    }

    func testAHookSubmittedOffAnyLoopRunsAtOnce() {
        let executor = PluginExecutor(name: "plain", concurrency: 1, maxStuck: 1)
        defer { executor.shutDown() }
        let done = DispatchSemaphore(value: 0)
        XCTAssertTrue(executor.submit(PluginExecutor.Job { done.signal() }))
        XCTAssertEqual(done.wait(timeout: .now() + 10), .success)
    }

    /// Hooks known to take about a microsecond (as a trivial plugin's do).
    private let microsecondHooks = HookPacing(typicalNanos: 1_000)

    func testABurstOfShortHooksIsServedByOneOrTwoThreadsNotByEveryThread() throws {
        let executor = PluginExecutor(name: "short", concurrency: 8, maxStuck: 8)
        defer { executor.shutDown() }
        // Eight threads, started by eight hooks that wait for one another, then asleep.
        let started = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let ended = DispatchSemaphore(value: 0)
        for _ in 0..<8 { executor.submit(PluginExecutor.Job { started.signal(); release.wait(); ended.signal() }) }
        for _ in 0..<8 { XCTAssertEqual(started.wait(timeout: .now() + 10), .success) }
        for _ in 0..<8 { release.signal() }
        for _ in 0..<8 { XCTAssertEqual(ended.wait(timeout: .now() + 10), .success) }
        // Each back asleep (a thread still on its way there would take hooks as an idle one).
        let deadline = ContinuousClock.now + .seconds(10)
        while executor.sleepingThreads < 8, ContinuousClock.now < deadline { usleep(1_000) }
        XCTAssertEqual(executor.sleepingThreads, 8)
        executor.assume(microsecondHooks)
        // A burst of 16 hooks of about 20 µs in one turn of a loop: 320 µs for one thread.
        let threads = Locked<Set<UInt>>([])
        let done = DispatchSemaphore(value: 0)
        try group.next().submit {
            for _ in 0..<16 {
                _ = executor.submit(PluginExecutor.Job {
                    threads.withLock { _ = $0.insert(UInt(bitPattern: Int(bitPattern: pthread_self()))) }
                    let until = monotonicNanos() + 20_000
                    while monotonicNanos() < until {}
                    done.signal()
                })
            }
        }.wait()
        for index in 0..<16 where done.wait(timeout: .now() + 10) != .success {
            return XCTFail("hook \(index) and later never ran")
        }
        // Before pacing, all 8 sleeping threads were woken for two hooks each.
        XCTAssertLessThanOrEqual(threads.withLock { $0.count }, 2)
    }

    func testAHookQueuedBehindOneThatOverrunsGetsAnotherThreadOnTheNextLook() throws {
        let executor = PluginExecutor(name: "overrun", concurrency: 2, maxStuck: 2, pacing: microsecondHooks)
        defer { executor.shutDown() }
        let started = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let second = DispatchSemaphore(value: 0)
        // Both in one turn: the pacing (microsecond hooks) wakes one thread for the two.
        try group.next().submit {
            _ = executor.submit(PluginExecutor.Job { started.signal(); release.wait() })
            _ = executor.submit(PluginExecutor.Job { second.signal() })
        }.wait()
        XCTAssertEqual(started.wait(timeout: .now() + 10), .success)
        let deadline = Date().addingTimeInterval(10)
        while second.wait(timeout: .now() + .milliseconds(50)) != .success {
            guard Date() < deadline else {
                release.signal()
                return XCTFail("the second hook waited behind the first for good")
            }
            executor.rebalance()  // what the host's watchdog does on every tick
        }
        release.signal()
    }

    /// Past `maxStuck`, with every thread stuck in a hook, the executor says so (a call then
    /// fails at once rather than wait for a thread that may never come), until a hook returns.
    func testItSaysWhenStuckHooksLeaveNoThreadToRunAnother() {
        let executor = PluginExecutor(name: "stuck", concurrency: 1, maxStuck: 0)
        defer { executor.shutDown() }
        let started = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let job = PluginExecutor.Job { started.signal(); release.wait() }
        XCTAssertTrue(executor.submit(job))
        XCTAssertEqual(started.wait(timeout: .now() + 10), .success)
        XCTAssertFalse(executor.isExhaustedByStuckHooks, "a hook running within its deadline is not stuck")
        XCTAssertEqual(executor.abandon(job), .stuck)
        XCTAssertTrue(executor.isExhaustedByStuckHooks)
        XCTAssertFalse(executor.submit(PluginExecutor.Job {}, unlessStuck: true), "refused, not queued behind the stuck hook")
        release.signal()
        let deadline = Date().addingTimeInterval(10)
        while executor.isExhaustedByStuckHooks, Date() < deadline { usleep(1_000) }
        XCTAssertFalse(executor.isExhaustedByStuckHooks, "the stuck hook returned")
    }
}

/// The answers of a plugin's hooks: a thread running a queue of short hooks wakes each
/// connection's loop once, after the batch; an answer never waits for a hook that hangs.
final class HeldWakeupTests: XCTestCase {
    /// A connection's wake-up: when it was asked for, and after which hooks had started.
    final class Wakeup: LoopWakeup, @unchecked Sendable {
        let woken = DispatchSemaphore(value: 0)
        private let lock = NSLock()
        private var hooksStartedAtWake: Int?
        let hooks: () -> Int

        init(hooks: @escaping () -> Int) { self.hooks = hooks }

        func wakeLoop() {
            lock.withLock { hooksStartedAtWake = hooksStartedAtWake ?? hooks() }
            woken.signal()
        }

        var startedBeforeWake: Int? { lock.withLock { hooksStartedAtWake } }
    }

    private let started = Locked(0)

    /// A job that answers through `wakeup` (as a plugin call's completion does), after `body`.
    private func job(answering wakeup: Wakeup?, _ body: @escaping () -> Void = {}) -> PluginExecutor.Job {
        PluginExecutor.Job { [started] in
            started.withLock { $0 += 1 }
            body()
            if let wakeup { HeldWakeups.wake(wakeup) }
        }
    }

    func testAQueueOfShortHooksWakesTheLoopOnceAfterTheLastOfThem() throws {
        // A hold of ten seconds: what is tested is the queue, not how fast this machine runs it.
        let executor = PluginExecutor(name: "batch", concurrency: 1, maxStuck: 1, pacing: HookPacing(typicalNanos: 1_000),
                                      answerHold: 10_000_000_000)
        defer { executor.shutDown() }
        let gate = DispatchSemaphore(value: 0)
        let first = Wakeup { [started] in started.withLock { $0 } }
        // The first hook waits until all are queued, so the thread finds the rest queued.
        XCTAssertTrue(executor.submit(job(answering: nil) { gate.wait() }))
        XCTAssertTrue(executor.submit(job(answering: first)))
        for _ in 0..<8 { XCTAssertTrue(executor.submit(job(answering: nil))) }
        gate.signal()
        XCTAssertEqual(first.woken.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(first.startedBeforeWake, 10, "the loop was woken after the queue was run, not after each hook")
    }

    func testAnAnswerIsNotHeldBackByAHookThatHangsAfterIt() throws {
        let executor = PluginExecutor(name: "hang", concurrency: 1, maxStuck: 1, pacing: HookPacing(typicalNanos: 1_000),
                                      answerHold: 10_000_000_000)
        defer { executor.shutDown() }
        let gate = DispatchSemaphore(value: 0), hang = DispatchSemaphore(value: 0)
        defer { hang.signal() }
        let answered = Wakeup { [started] in started.withLock { $0 } }
        XCTAssertTrue(executor.submit(job(answering: nil) { gate.wait() }))
        XCTAssertTrue(executor.submit(job(answering: answered)))
        XCTAssertTrue(executor.submit(job(answering: nil) { hang.wait() }))
        gate.signal()
        // The watchdog's tick (every 50 ms in the server) releases what a thread in a hook
        // that overran holds.
        let ticks = Thread {
            for _ in 0..<200 {
                if answered.woken.wait(timeout: .now() + .milliseconds(50)) == .success { break }
                executor.rebalance()
            }
            answered.woken.signal()
        }
        ticks.start()
        XCTAssertEqual(answered.woken.wait(timeout: .now() + 10), .success, "the answer reached its loop while the next hook hangs")
        XCTAssertEqual(answered.startedBeforeWake, 3)
    }

    func testAnswersAreHeldWhileHooksAreShortAndNotForLong() {
        let short = HookPacing(typicalNanos: 1_000)
        XCTAssertTrue(short.holdsAnswers(queued: 3, since: 1_000, now: 1_000 + HookPacing.answerHold - 1))
        XCTAssertFalse(short.holdsAnswers(queued: 3, since: 1_000, now: 1_000 + HookPacing.answerHold), "held 50 µs already")
        XCTAssertFalse(short.holdsAnswers(queued: 0, since: 1_000, now: 1_000), "nothing left to run")
        XCTAssertFalse(HookPacing(typicalNanos: HookPacing.minimumOverrun).holdsAnswers(queued: 3, since: 1_000, now: 1_000),
                       "hooks that are not short")
        XCTAssertFalse(HookPacing().holdsAnswers(queued: 3, since: 1_000, now: 1_000), "hooks of unknown length")
    }

    func testAnAnswerGivenOffAPluginThreadWakesItsLoopAtOnce() {
        let wakeup = Wakeup { 0 }
        HeldWakeups.wake(wakeup)
        XCTAssertEqual(wakeup.woken.wait(timeout: .now()), .success)
    }
}
