@testable import ConveneTransport
import NIOCore
import NIOEmbedded
import NIOPosix
import XCTest

/// Connections that yield their turn of an event loop resume in batches, in the order they
/// yielded; one that yields again during its batch waits for the next. (That a batch waits
/// for the loop to poll its sockets is checked through a real server:
/// `AttackTests.testPipelinedFloodsTakeTurnsWithTheOtherConnectionsOfTheirLoop`.)
final class LoopTurnsTests: XCTestCase {
    func testOnALoopWithoutAPipeYieldersResumeWhenTheLoopRunsInOrderOneBatchAtATime() {
        let loop = EmbeddedEventLoop()
        let turns = LoopTurns.on(loop)
        XCTAssertTrue(LoopTurns.on(loop) === turns, "one set of turns per loop")
        var log: [String] = []
        var again = true
        turns.yield { log.append("a") }
        turns.yield {
            log.append("b")
            if again {
                again = false
                turns.yield { log.append("b again") }
            }
        }
        XCTAssertEqual(log, [], "nothing resumes before the loop runs")
        loop.run()
        XCTAssertEqual(log, ["a", "b", "b again"])
    }

    func testOnARealLoopEveryYielderResumesAndReYieldersWaitForTheNextBatch() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let loop = group.next()
        let log = try loop.submit { () -> EventLoopFuture<[String]> in
            let turns = LoopTurns.on(loop)
            var log: [String] = []
            let done = loop.makePromise(of: [String].self)
            // Two connections, each yielding three times: they alternate, batch by batch.
            func connection(_ name: String, _ left: Int) {
                turns.yield {
                    log.append("\(name)\(left)")
                    if left > 1 { connection(name, left - 1) } else if name == "b" { done.succeed(log) }
                }
            }
            connection("a", 3)
            connection("b", 3)
            let hang = loop.scheduleTask(in: .seconds(10)) { done.fail(ChannelError.ioOnClosedChannel) }
            done.futureResult.whenComplete { _ in hang.cancel() }
            return done.futureResult
        }.flatMap { $0 }.wait()
        XCTAssertEqual(log, ["a3", "b3", "a2", "b2", "a1", "b1"])
    }
}
