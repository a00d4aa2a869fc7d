@testable import ConvenePluginHost
import Foundation
import NIOCore
import NIOPosix
import XCTest

/// A plugin's threads: hooks submitted on an event loop wake them once, at the end of the
/// loop's turn, and none of them waits behind a hook that is still running.
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
}
