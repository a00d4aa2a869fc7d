@testable import ConveneTransport
import ConveneRPC
import Foundation
import NIOCore
import XCTest

/// Deferred answers, posted on plugin threads and drained on the loop without a lock: each
/// answer is drained exactly once, in the order its thread posted it, and only the first
/// post after a drain asks for one.
final class DeferredAnswersTests: XCTestCase {
    func testOnlyTheFirstPostAfterADrainAsksForOneAndADrainKeepsTheOrder() throws {
        let answers = DeferredAnswers<TestAnswer>()
        XCTAssertTrue(answers.post(TestAnswer(1, .success(ByteBuffer(string: "a")))))
        XCTAssertFalse(answers.post(TestAnswer(3, .success(ByteBuffer(string: "b")))))
        XCTAssertFalse(answers.post(TestAnswer(5, .failure(RPCError(.internal, "c")))))
        XCTAssertEqual(answers.drain().map(\.streamID), [1, 3, 5])
        XCTAssertTrue(answers.drain().isEmpty)
        XCTAssertTrue(answers.post(TestAnswer(7, .success(ByteBuffer()))), "the next post after a drain asks for another")
        XCTAssertEqual(answers.drain().map(\.streamID), [7])
    }

    func testAnswersPostedOnManyThreadsWhileDrainingAreEachDrainedOnceInTheirThreadsOrder() {
        let answers = DeferredAnswers<TestAnswer>()
        let threads = 4, perThread = 20_000
        let drained = Locked<[UInt32]>([])
        let posting = DispatchGroup()
        let stop = Locked(false)
        let drainer = Thread {
            while true {
                // Read before the drain: once every post is done, this drain takes the rest.
                let postingDone = stop.withLock { $0 }
                let batch = answers.drain().map(\.streamID)
                drained.withLock { $0 += batch }
                if postingDone { break }
            }
        }
        drainer.start()
        for thread in 0..<threads {
            posting.enter()
            Thread {
                for index in 0..<perThread {
                    _ = answers.post(TestAnswer(UInt32(thread * perThread + index), .success(ByteBuffer())))
                }
                posting.leave()
            }.start()
        }
        XCTAssertEqual(posting.wait(timeout: .now() + 60), .success)
        stop.withLock { $0 = true }
        let deadline = Date().addingTimeInterval(60)
        while drained.withLock({ $0.count }) < threads * perThread, Date() < deadline { usleep(1_000) }
        let all = drained.withLock { $0 }
        XCTAssertEqual(all.count, threads * perThread, "every answer is drained once")
        XCTAssertEqual(Set(all).count, threads * perThread, "no answer is drained twice")
        for thread in 0..<threads {
            let own = all.filter { Int($0) / perThread == thread }
            XCTAssertEqual(own, own.sorted(), "thread \(thread)'s answers come in the order it posted them")
        }
    }
}

/// An answer as a connection's completion posts it, without a connection.
private final class TestAnswer: PostedAnswer {
    let streamID: UInt32
    let result: Result<ByteBuffer, any Error>?
    var postedNext: UInt = 0

    init(_ streamID: UInt32, _ result: Result<ByteBuffer, any Error>) {
        self.streamID = streamID
        self.result = result
    }
}
