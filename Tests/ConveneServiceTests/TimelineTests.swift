import ConveneClient
import ConveneProtos
import ConveneRPC
import ConveneTransport
import Foundation
import XCTest

/// Meetings on a real timeline, judged by the server's (manual) clock: recorded after the fact,
/// held not before their time, the II.B.5(b) order and lead time in real figures.
final class TimelineTests: OperationTestCase {
    let hour: Int64 = 3_600_000
    var c: ConsultationClient { f.client.consultation }

    func testAPastMeetingIsRecordedWithItsReasonAndTheAccountSaysSo() async throws {
        let past = try await f.convene(operation, at: f.now - 48 * hour, pastReason: "Held in Nairobi before the system was in use")
        XCTAssertEqual(past.pastMeetingReason, "Held in Nairobi before the system was in use")
        let future = try await f.convene(operation, at: f.now + 48 * hour)
        XCTAssertEqual(future.pastMeetingReason, "")
        let account = try await c.getConsultationAccount(.with { $0.operationID = operation }, options: f.options("Secretariat"))
        XCTAssertEqual(account.meetingsRecordedAfterTheFact, 1)
        XCTAssertEqual(account.meetings.map(\.recordedAfterTheFact), [true, false])
        // A meeting recorded after the fact may be recorded as held at once; one to come only at its time.
        _ = try await c.markMeetingHeld(.with { $0.meetingID = past.id }, options: f.options("President"))
        let early = await assertRPCError(.failedPrecondition, containing: "cannot be recorded as held before its scheduled time") {
            try await self.c.markMeetingHeld(.with { $0.meetingID = future.id }, options: self.f.options("President"))
        }
        XCTAssertTrue(early?.message.contains("48.0 h from now") == true, early?.message ?? "")
        f.clock!.advance(by: .seconds(48 * 3600))
        let held = try await c.markMeetingHeld(.with { $0.meetingID = future.id }, options: f.options("President"))
        XCTAssertEqual(held.status, .held)
    }

    /// II.B.5(b): the Council members' consultations on a report come after the contributors'
    /// meeting on it; out of order only with a reason, and flagged.
    func testTheOrderOfMeetingsOnAReportIsKeptOrFlagged() async throws {
        let report = try await f.client.briefing.publishReport(.with {
            $0.operationID = operation; $0.symbol = "S/2026/900"; $0.title = "Report"; $0.requestedByCouncil = true
        }, options: f.options("Secretariat")).id
        let contributors = try await f.convene(operation, at: f.now + 72 * hour, reportID: report)
        XCTAssertEqual(contributors.reportID, report)
        XCTAssertEqual(contributors.flags, [])
        let inOrder = try await f.convene(operation, form: .councilConsultations, stage: .unspecified, at: f.now + 96 * hour,
                                          override: "The summary follows", reportID: report)
        XCTAssertEqual(inOrder.flags, [])
        let first = try await f.convene(operation, form: .councilConsultations, stage: .unspecified, at: f.now + 24 * hour,
                                        reportID: report, lateReason: "Fixed by the programme of work")
        XCTAssertEqual(first.flags.count, 1)
        XCTAssertTrue(first.flags[0].contains(contributors.id), first.flags[0])
        XCTAssertEqual(first.lateReason, "Fixed by the programme of work")
        // An unrequested report binds no order.
        let unrequested = try await f.client.briefing.publishReport(.with {
            $0.operationID = operation; $0.symbol = "S/2026/901"; $0.title = "Note"
        }, options: f.options("Secretariat")).id
        _ = try await f.convene(operation, form: .councilConsultations, stage: .unspecified, at: f.now + 25 * hour, reportID: unrequested)
    }

    /// The lead time in real figures: 47.9 h is short of 48 h, and is said so.
    func testTheLeadTimeIsStatedInRealFigures() async throws {
        let meeting = try await f.convene(operation, at: f.now + 48 * hour)
        f.clock!.advance(by: .seconds(6 * 60))  // 47 h 54 min before the meeting
        let report = try await f.client.briefing.publishReport(.with {
            $0.operationID = operation; $0.symbol = "S/2026/902"; $0.title = "Report"; $0.requestedByCouncil = true
        }, options: f.options("Secretariat")).id
        let refusal = await assertRPCError(.failedPrecondition) {
            try await self.f.client.briefing.distributeReport(.with { $0.reportID = report; $0.meetingID = meeting.id },
                                                              options: self.f.options("Secretariat"))
        }
        XCTAssertTrue(refusal?.message.hasPrefix("distributed 47.9 h before the contributors' meeting; the rule is 48 h before it") == true,
                      refusal?.message ?? "")
    }
}
