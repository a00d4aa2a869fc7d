@testable import ConvenePluginHost
import ConveneRPC
import Foundation
import NIOCore
import XCTest

/// A plugin call's ticket lets go of what it holds once the call is answered. An in-process
/// engine's abandon hook holds the job whose body holds the ticket: kept after the answer,
/// that cycle leaked every plugin call (about 1.4 KB each, 1.1 GB in 10 s of `convene bench`).
final class CallTicketTests: XCTestCase {
    private enum Answer: CaseIterable { case committed, failed, abandoned }

    func testAnAnsweredCallFreesItsTicketAndItsJobHoweverItWasAnswered() throws {
        for answer in Answer.allCases {
            let activity = PluginActivity()
            weak var goneTicket: CallTicket?
            weak var goneJob: PluginExecutor.Job?
            let answers = Locked(0)
            do {
                let ticket = activity.ticket(deadline: .now + .seconds(60), label: "Echo") { _ in answers.withLock { $0 += 1 } }
                // As InProcessEngine.run wires them.
                let job = PluginExecutor.Job {
                    guard ticket.hookStarting() else { return }
                    ticket.hookEnded()
                }
                ticket.setAbandonHook { _ = job }
                job.run()
                switch answer {
                case .committed: try ticket.commitAndAnswer { ByteBuffer(bytes: [1, 2, 3]) }
                case .failed: ticket.fail(RPCError(.internal, "plugin failed"))
                case .abandoned: XCTAssertTrue(ticket.abandon(RPCError(.deadlineExceeded, "deadline")))
                }
                goneTicket = ticket
                goneJob = job
            }
            XCTAssertEqual(answers.withLock { $0 }, 1, "\(answer): answered once")
            XCTAssertEqual(activity.count, 0, "\(answer): the activity let go of the ticket")
            XCTAssertNil(goneJob, "\(answer): the job was freed")
            XCTAssertNil(goneTicket, "\(answer): the ticket was freed")
        }
    }

    /// A plugin's calls hold at most `maxRequestBytes` of requests at once: a call past it is
    /// not admitted; the bytes come back when a call is removed; a call alone always is.
    func testAPluginsCallsHoldABoundedAmountOfRequests() {
        let activity = PluginActivity(maxRequestBytes: 100)
        func admit(_ bytes: Int) -> (ticket: CallTicket?, held: Int) {
            activity.admittedTicket(deadline: .now + .seconds(60), label: "Echo", answerer: .closure { _ in }, requestBytes: bytes)
        }
        let first = admit(60)
        XCTAssertNotNil(first.ticket)
        let refused = admit(50)
        XCTAssertNil(refused.ticket)
        XCTAssertEqual(refused.held, 60)
        let second = admit(40)
        XCTAssertNotNil(second.ticket, "up to the bound")
        XCTAssertEqual(activity.requestBytes, 100)
        XCTAssertEqual(activity.count, 2, "a refused call is not registered")
        XCTAssertNotNil(admit(0).ticket, "an event delivery holds no request")
        first.ticket?.fail(RPCError(.internal, "done"))
        XCTAssertEqual(activity.requestBytes, 40, "an answered call's bytes come back")
        XCTAssertNotNil(admit(60).ticket)
        second.ticket?.fail(RPCError(.internal, "done"))
        let alone = PluginActivity(maxRequestBytes: 100)
        XCTAssertNotNil(alone.admittedTicket(deadline: .now + .seconds(60), label: "Echo", answerer: .closure { _ in },
                                             requestBytes: 500).ticket, "a call alone is admitted, however large")
    }

    func testAnAbandonmentDuringTheCommitNeitherWaitsForItNorUndoesIt() throws {
        struct CommitFailed: Error {}
        for commitSucceeds in [true, false] {
            let activity = PluginActivity()
            let answers = Locked<[Result<[UInt8], RPCError>]>([])
            let ticket = activity.ticket(deadline: .now + .seconds(60), label: "Echo") { result in
                answers.withLock { $0.append(result) }
            }
            let inCommit = DispatchSemaphore(value: 0)
            let release = DispatchSemaphore(value: 0)
            let committed = DispatchSemaphore(value: 0)
            let committer = Thread {
                _ = try? ticket.commitAndAnswer {
                    inCommit.signal()
                    release.wait()  // a slow database
                    guard commitSucceeds else { throw CommitFailed() }
                    return ByteBuffer(bytes: [7])
                }
                committed.signal()
            }
            committer.start()
            inCommit.wait()
            // On a thread of its own: an abandonment that waited for the commit fails the test, not hangs it.
            let abandoned = DispatchSemaphore(value: 0)
            let abandoner = Thread {
                XCTAssertTrue(ticket.abandon(RPCError(.cancelled, "the call was cancelled")))
                ticket.fail(RPCError(.unavailable, "a failure meanwhile"))
                abandoned.signal()
            }
            abandoner.start()
            XCTAssertEqual(abandoned.wait(timeout: .now() + 2), .success, "abandoning waits for no commit")
            XCTAssertEqual(answers.withLock { $0.count }, 0, "nothing is answered while the commit runs")
            release.signal()
            XCTAssertEqual(committed.wait(timeout: .now() + 10), .success)
            let answered = answers.withLock { $0 }
            XCTAssertEqual(answered.count, 1, "answered once")
            if commitSucceeds {
                XCTAssertEqual(try answered.first?.get(), [7], "what committed is answered")
            } else {
                guard case .failure(let error)? = answered.first else { return XCTFail("answered \(answered)") }
                XCTAssertEqual(error.code, .cancelled, "a commit that failed leaves the abandonment")
            }
            XCTAssertEqual(activity.count, 0)
        }
    }

    func testAHookSetAfterTheAnswerIsNotKept() throws {
        let activity = PluginActivity()
        weak var goneTicket: CallTicket?
        do {
            let ticket = activity.ticket(deadline: .now + .seconds(60), label: "Echo") { _ in }
            ticket.fail(RPCError(.unavailable, "plugin stopping"))
            ticket.setAbandonHook { _ = ticket }
            goneTicket = ticket
        }
        XCTAssertNil(goneTicket)
    }
}
