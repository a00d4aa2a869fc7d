import ConveneClient
import ConveneProtos
import ConveneRPC
import ConveneTransport
import Foundation
import XCTest

/// II.B.6 whichever meeting is convened first: the Council members' consultations, convened
/// before a contributors' meeting scheduled ahead of them, are recorded as held only once that
/// meeting's summary has been circulated to them.
final class SummaryOrderTests: OperationTestCase {
    func held(_ meetingID: String) async throws -> Convene_Consultation_V1_Meeting {
        try await f.client.unary(CM.markMeetingHeld, Convene_Consultation_V1_MarkMeetingHeldRequest.with { $0.meetingID = meetingID },
                                 as: Convene_Consultation_V1_Meeting.self, options: f.options("President"))
    }

    func prepareSummary(_ meetingID: String) async throws {
        _ = try await f.client.unary(CM.prepareSummary, Convene_Consultation_V1_PrepareSummaryRequest.with {
            $0.meetingID = meetingID; $0.text = "Contributors asked for air assets."
        }, as: Convene_Consultation_V1_Summary.self, options: f.options("Secretariat"))
    }

    func circulateSummary(_ meetingID: String) async throws {
        _ = try await f.client.unary(CM.circulateSummary, Convene_Consultation_V1_CirculateSummaryRequest.with {
            $0.meetingID = meetingID
        }, as: Convene_Consultation_V1_Summary.self, options: f.options("President"))
    }

    func testTheCouncilsConsultationsWaitForASummaryWhicheverWasConvenedFirst() async throws {
        let hour: Int64 = 3_600_000
        let council = try await f.convene(operation, form: .councilConsultations, stage: .unspecified, at: f.now + 24 * hour, paper: false)
        let contributors = try await f.convene(operation, at: f.now + 10 * hour)
        f.advance(to: f.now + 25 * hour)
        _ = try await held(contributors.id)
        let refused = await assertRPCError(.failedPrecondition, containing: contributors.id) { _ = try await self.held(council.id) }
        XCTAssertTrue(refused?.message.contains("II.B.6") == true, refused?.message ?? "")
        try await prepareSummary(contributors.id)
        await assertRPCError(.failedPrecondition, containing: "II.B.6") { _ = try await self.held(council.id) }
        try await circulateSummary(contributors.id)
        let done = try await held(council.id)
        XCTAssertEqual(done.status, .held)
        // The summary reached the Council members an hour after their consultations: the record says so.
        XCTAssertEqual(done.flags.count, 1, "\(done.flags)")
        XCTAssertTrue(done.flags.first?.contains("\(contributors.id)") == true && done.flags.first?.contains("1.0 h after this discussion") == true,
                      "\(done.flags)")
    }

    /// Both recorded after the fact, the Council members' consultations first: the summary of
    /// the contributors' meeting before them, circulated now, reached them after they met, and
    /// their record says so (as it would have, recorded in the other order).
    func testASummaryCirculatedAfterADiscussionRecordedEarlierFlagsIt() async throws {
        let hour: Int64 = 3_600_000
        let council = try await f.convene(operation, form: .councilConsultations, stage: .unspecified, at: f.now - 5 * hour, paper: false,
                                          pastReason: "Entered after the fact")
        _ = try await held(council.id)
        let contributors = try await f.convene(operation, at: f.now - 10 * hour, pastReason: "Entered after the fact")
        _ = try await held(contributors.id)
        try await prepareSummary(contributors.id)
        try await circulateSummary(contributors.id)
        let flagged = try await f.client.unary(CM.getMeeting, Convene_Consultation_V1_GetMeetingRequest.with { $0.meetingID = council.id },
                                               as: Convene_Consultation_V1_Meeting.self, options: f.options("President"))
        XCTAssertEqual(flagged.flags.count, 1, "\(flagged.flags)")
        XCTAssertTrue(flagged.flags.first?.contains(contributors.id) == true && flagged.flags.first?.contains("5.0 h after this discussion") == true,
                      "\(flagged.flags)")
        // A contributors' meeting after the discussion is no summary it waited for.
        let later = try await f.convene(operation, at: f.now - 2 * hour, pastReason: "Entered after the fact")
        _ = try await held(later.id)
        try await prepareSummary(later.id)
        try await circulateSummary(later.id)
        let again = try await f.client.unary(CM.getMeeting, Convene_Consultation_V1_GetMeetingRequest.with { $0.meetingID = council.id },
                                             as: Convene_Consultation_V1_Meeting.self, options: f.options("President"))
        XCTAssertEqual(again.flags, flagged.flags)
    }

    func testASummaryCirculatedInTimeLeavesNoFlag() async throws {
        let hour: Int64 = 3_600_000
        let council = try await f.convene(operation, form: .councilConsultations, stage: .unspecified, at: f.now + 24 * hour, paper: false)
        let contributors = try await f.convene(operation, at: f.now + 10 * hour)
        f.advance(to: f.now + 11 * hour)
        _ = try await held(contributors.id)
        try await prepareSummary(contributors.id)
        try await circulateSummary(contributors.id)
        f.advance(to: f.now + 14 * hour)
        let done = try await held(council.id)
        XCTAssertEqual(done.status, .held)
        XCTAssertEqual(done.flags, [])
    }

    func testAnOverriddenDiscussionIsHeldWithoutTheSummary() async throws {
        let hour: Int64 = 3_600_000
        _ = try await f.convene(operation, at: f.now + 10 * hour)
        let council = try await f.convene(operation, form: .councilConsultations, stage: .unspecified, at: f.now + 24 * hour, paper: false,
                                          override: "Rapid deterioration: the Council meets at once")
        f.advance(to: f.now + 25 * hour)
        let done = try await held(council.id)
        XCTAssertEqual(done.status, .held)
    }
}
