@testable import ConvenePluginHost
import ConveneRPC
import Foundation
import XCTest

/// A runner's reader runs short hooks itself between two reads, and hands the reading on
/// when one of them hangs or waits for the server; the plugin's own threads take what the
/// reader cannot.
final class RunnerReadersTests: XCTestCase {
    /// Hooks known to take about a microsecond (as a trivial plugin's do).
    private let microsecondHooks = HookPacing(typicalNanos: 1_000)

    func testShortHooksRunOnTheLendingThreadWhenNoThreadOfThePluginIsAwake() {
        let executor = PluginExecutor(name: "lend", concurrency: 4, maxStuck: 4, pacing: microsecondHooks)
        defer { executor.shutDown() }
        let here = pthread_self()
        let ranHere = Locked(0)
        for _ in 0..<10 {
            executor.submit(PluginExecutor.Job { if pthread_equal(pthread_self(), here) != 0 { ranHere.withLock { $0 += 1 } } },
                            wake: false)
        }
        XCTAssertEqual(executor.runQueuedHere(executor.lendableWorker(), limit: 100), 10)
        XCTAssertEqual(ranHere.withLock { $0 }, 10)
        // At most `limit` at once.
        for _ in 0..<5 { executor.submit(PluginExecutor.Job {}, wake: false) }
        XCTAssertEqual(executor.runQueuedHere(executor.lendableWorker(), limit: 2), 2)
        XCTAssertEqual(executor.runQueuedHere(executor.lendableWorker(), limit: 100), 3)
    }

    func testHooksOfUnknownOrLongLengthAreLeftToThePluginsThreads() {
        for pacing in [HookPacing(), HookPacing(typicalNanos: 5_000_000)] {
            let executor = PluginExecutor(name: "long", concurrency: 2, maxStuck: 2, pacing: pacing)
            defer { executor.shutDown() }
            let done = DispatchSemaphore(value: 0)
            let here = pthread_self()
            let ranHere = Locked(false)
            executor.submit(PluginExecutor.Job {
                if pthread_equal(pthread_self(), here) != 0 { ranHere.withLock { $0 = true } }
                done.signal()
            }, wake: false)
            XCTAssertEqual(executor.runQueuedHere(executor.lendableWorker(), limit: 100), 0, "\(pacing)")
            executor.rebalance()
            XCTAssertEqual(done.wait(timeout: .now() + 10), .success)
            XCTAssertFalse(ranHere.withLock { $0 })
        }
    }

    func testAHookAbandonedOnTheLendingThreadLeavesTheQueueToThePluginsThreads() {
        let executor = PluginExecutor(name: "abandoned", concurrency: 2, maxStuck: 2, pacing: microsecondHooks)
        defer { executor.shutDown() }
        let started = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let second = DispatchSemaphore(value: 0)
        let hung = PluginExecutor.Job { started.signal(); release.wait() }
        executor.submit(hung, wake: false)
        executor.submit(PluginExecutor.Job { second.signal() }, wake: false)
        let ran = Locked(-1)
        let lender = Thread { ran.withLock { $0 = executor.runQueuedHere(executor.lendableWorker(), limit: 100) } }
        lender.start()
        XCTAssertEqual(started.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(executor.abandon(hung), .stuck)
        XCTAssertEqual(executor.stuck, 1)
        XCTAssertEqual(second.wait(timeout: .now() + 10), .success, "the hook behind it ran on a thread of the plugin")
        release.signal()
        let returned = eventually { ran.withLock { $0 } >= 0 }
        XCTAssertTrue(returned)
        XCTAssertEqual(ran.withLock { $0 }, 1, "the lending thread stopped after its hook was abandoned")
        XCTAssertEqual(executor.stuck, 0)
    }

    func testHooksOnTheLendingThreadCountAgainstThePluginsConcurrency() {
        let executor = PluginExecutor(name: "bounded", concurrency: 2, maxStuck: 2)
        defer { executor.shutDown() }
        let running = Locked(0)
        let most = Locked(0)
        let started = DispatchSemaphore(value: 0)
        let ended = DispatchSemaphore(value: 0)
        func job(_ release: DispatchSemaphore?) -> PluginExecutor.Job {
            PluginExecutor.Job {
                let now = running.withLock { count -> Int in
                    count += 1
                    return count
                }
                most.withLock { $0 = max($0, now) }
                started.signal()
                release?.wait()
                running.withLock { $0 -= 1 }
                ended.signal()
            }
        }
        // Both of the plugin's threads started (hook lengths unknown: a thread each), then one asleep.
        let releaseFirst = DispatchSemaphore(value: 0), releaseSecond = DispatchSemaphore(value: 0)
        executor.submit(job(releaseFirst))
        executor.submit(job(releaseSecond))
        XCTAssertEqual(started.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(started.wait(timeout: .now() + 10), .success)
        releaseFirst.signal()
        XCTAssertEqual(ended.wait(timeout: .now() + 10), .success)
        executor.assume(microsecondHooks)
        // One hook on a thread of the plugin, one on a lent thread: the plugin's two.
        let releaseLent = DispatchSemaphore(value: 0)
        executor.submit(job(releaseLent), wake: false)
        let lender = Thread { _ = executor.runQueuedHere(executor.lendableWorker(), limit: 1) }
        lender.start()
        XCTAssertEqual(started.wait(timeout: .now() + 10), .success)
        // A third waits for one of them, however often the queue is looked at.
        executor.submit(job(nil))
        for _ in 0..<5 {
            executor.rebalance()
            usleep(10_000)
        }
        XCTAssertEqual(running.withLock { $0 }, 2)
        releaseSecond.signal()
        XCTAssertEqual(ended.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(ended.wait(timeout: .now() + 10), .success, "the third ran once a thread was free")
        releaseLent.signal()
        XCTAssertEqual(ended.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(most.withLock { $0 }, 2, "never more hooks at once than the plugin's concurrency")
    }

    func testAReaderStalledInAHookOrWaitingForTheServerHandsTheReadingOn() {
        let executor = PluginExecutor(name: "baton", concurrency: 4, maxStuck: 4, pacing: microsecondHooks)
        defer { executor.shutDown() }
        let release = DispatchSemaphore(value: 0)
        let reading = Locked<[Int: pthread_t]>([:])
        let started = DispatchSemaphore(value: 0)
        let readers = Locked<RunnerReaders?>(nil)
        let hookStarted = Locked<UInt64>(0)
        let baton = RunnerReaders(executor: executor)
        let read: RunnerReaders.Read = { generation, worker in
            reading.withLock { $0[generation] = pthread_self() }
            if generation == 0 {
                // The first reader runs a hook that hangs until released.
                executor.submit(PluginExecutor.Job {
                    hookStarted.withLock { $0 = monotonicNanos() }
                    started.signal()
                    release.wait()
                }, wake: false)
                _ = executor.runQueuedHere(worker, limit: 10)
            }
            if generation > 0 { started.signal() }
            if generation == 1 {
                // The second runs a hook that waits for the server.
                executor.submit(PluginExecutor.Job { readers.withLock { $0 }?.handOverIfReader() }, wake: false)
                _ = executor.runQueuedHere(worker, limit: 10)
            }
            // A reader reads until it no longer holds the baton (or the test is over).
            while readers.withLock({ $0 })?.isReading(generation) ?? false { usleep(1_000) }
        }
        readers.withLock { $0 = baton }
        let first = Thread { baton.serve(read) }
        first.start()
        XCTAssertEqual(started.wait(timeout: .now() + 10), .success)
        // Not yet stalled for long enough: the baton stays.
        XCTAssertTrue(baton.handOverIfStalled(), "the reader is in a hook: busy")
        if monotonicNanos() - hookStarted.withLock({ $0 }) < RunnerReaders.handOverAfterNanos {
            XCTAssertTrue(baton.isReading(0))
        }
        usleep(useconds_t(RunnerReaders.handOverAfterNanos / 1_000 + 2_000))
        // Unless the first tick came late enough to hand over already (a loaded machine).
        if baton.isReading(0) { XCTAssertTrue(baton.handOverIfStalled()) }
        // A new thread reads (generation 1) and hands over in its hook (generation 2, on the
        // first thread once its hook returns and it has parked as the spare).
        XCTAssertEqual(started.wait(timeout: .now() + 10), .success)
        XCTAssertFalse(baton.isReading(0))
        release.signal()
        XCTAssertEqual(started.wait(timeout: .now() + 10), .success)
        let threads = reading.withLock { $0 }
        XCTAssertEqual(Set(threads.keys), [0, 1, 2])
        if let zero = threads[0], let one = threads[1], let two = threads[2] {
            XCTAssertEqual(pthread_equal(zero, one), 0, "a stalled reader's reading went to another thread")
            XCTAssertEqual(pthread_equal(one, two), 0, "a reader waiting for the server handed over")
        }
        XCTAssertTrue(baton.isReading(2))
        readers.withLock { $0 = nil }
    }

    private func eventually(_ condition: () -> Bool) -> Bool {
        for _ in 0..<1_000 {
            if condition() { return true }
            usleep(10_000)
        }
        return false
    }
}
