@testable import ConvenePluginHost
import ConveneRPC
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
