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

    /// Runs `count` trivial hooks one turn of the loop at a time, so the executor learns how long they take.
    private func teach(_ executor: PluginExecutor, count: Int) throws {
        let done = DispatchSemaphore(value: 0)
        for _ in 0..<count {
            try group.next().submit { _ = executor.submit(PluginExecutor.Job { done.signal() }) }.wait()
            XCTAssertEqual(done.wait(timeout: .now() + 10), .success)
        }
    }

    func testABurstOfShortHooksIsServedByOneOrTwoThreadsNotByEveryThread() throws {
        let executor = PluginExecutor(name: "short", concurrency: 8, maxStuck: 8)
        defer { executor.shutDown() }
        try teach(executor, count: 50)
        let threads = Locked<Set<UInt>>([])
        let done = DispatchSemaphore(value: 0)
        try group.next().submit {
            for _ in 0..<16 {
                _ = executor.submit(PluginExecutor.Job {
                    threads.withLock { _ = $0.insert(UInt(bitPattern: Int(bitPattern: pthread_self()))) }
                    done.signal()
                })
            }
        }.wait()
        for index in 0..<16 where done.wait(timeout: .now() + 10) != .success {
            return XCTFail("hook \(index) and later never ran")
        }
        // Before pacing, each of the 8 threads was woken for two hooks.
        XCTAssertLessThanOrEqual(threads.withLock { $0.count }, 2)
    }

    func testAHookQueuedBehindOneThatOverrunsGetsAnotherThreadOnTheNextLook() throws {
        let executor = PluginExecutor(name: "overrun", concurrency: 2, maxStuck: 2)
        defer { executor.shutDown() }
        try teach(executor, count: 50)
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
}

