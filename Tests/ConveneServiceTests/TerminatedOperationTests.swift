import ConveneClient
import ConveneProtos
import ConveneRPC
import ConveneTransport
import Foundation
import XCTest

/// A terminated operation gets no new meeting but its assessment (I.B.3: lessons are learned at
/// its end too) and the record of a meeting that took place.
final class TerminatedOperationTests: OperationTestCase {
    func testATerminatedOperationIsAssessedAndItsPastMeetingsRecorded() async throws {
        _ = try await f.client.unary(CM.updateMandate, Convene_Consultation_V1_UpdateMandateRequest.with {
            $0.operationID = operation; $0.phase = .terminated
        }, as: Convene_Consultation_V1_Operation.self, options: f.options("President"))
        let refused = await assertRPCError(.failedPrecondition, containing: "is terminated; no meeting is convened on it") {
            _ = try await self.f.convene(self.operation)
        }
        XCTAssertNotNil(refused)
        let hour: Int64 = 3_600_000
        for at in [f.now + 24 * hour, f.now - hour] {
            let evaluation = try await f.client.unary(LM.conveneEvaluationMeeting, Convene_Lessons_V1_ConveneEvaluationMeetingRequest.with {
                $0.operationID = operation; $0.stage = "after withdrawal"
                $0.scheduledTime = .init(seconds: at / 1000)
                if at < f.now { $0.pastMeetingReason = "Held in New York before the record was kept" }
            }, as: Convene_Lessons_V1_EvaluationMeeting.self, options: f.options("Secretariat"))
            XCTAssertTrue(evaluation.invitedPartyIds.contains(f.ids["Troops"]!))
        }
        let recorded = try await f.convene(operation, form: .secretariatMeeting, stage: .unspecified, at: f.now - 2 * hour, as: "Secretariat",
                                           paper: false, pastReason: "The last meeting with the contributors, before termination")
        XCTAssertEqual(recorded.pastMeetingReason, "The last meeting with the contributors, before termination")
    }
}
