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
        // A request still pending when the operation ends could never be met (M23): it is
        // declined with the termination, and its requester sees why; a decided one stays as it was.
        let pending = try await requestMeeting(as: "Troops")
        let declined = try await requestMeeting(as: "Police")
        _ = try await f.client.unary(CM.declineMeetingRequest, Convene_Consultation_V1_DeclineMeetingRequestRequest.with {
            $0.requestID = declined.id; $0.reason = "Covered by the next consultation"
        }, as: Convene_Consultation_V1_MeetingRequest.self, options: f.options("President"))
        _ = try await f.client.unary(CM.updateMandate, Convene_Consultation_V1_UpdateMandateRequest.with {
            $0.operationID = operation; $0.phase = .terminated
        }, as: Convene_Consultation_V1_Operation.self, options: f.options("President"))
        let seen = try await f.client.unary(CM.listMeetingRequests, Convene_Consultation_V1_ListMeetingRequestsRequest.with {
            $0.operationID = operation
        }, as: Convene_Consultation_V1_ListMeetingRequestsResponse.self, options: f.options("Troops")).requests
        XCTAssertEqual(seen.map(\.id), [pending.id], "a requester sees its own requests only")
        XCTAssertEqual(seen.first?.status, .declined)
        XCTAssertEqual(seen.first?.declineReason, "the operation was terminated; no meeting is convened on it (II.B.2(f), M23)")
        let all = try await f.client.unary(CM.listMeetingRequests, Convene_Consultation_V1_ListMeetingRequestsRequest.with {
            $0.operationID = operation
        }, as: Convene_Consultation_V1_ListMeetingRequestsResponse.self, options: f.options("President")).requests
        XCTAssertEqual(all.first { $0.id == declined.id }?.declineReason, "Covered by the next consultation", "a decided request is left as it was")
        XCTAssertTrue(all.allSatisfy { $0.status == .declined }, "\(all)")
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

    private func requestMeeting(as party: String) async throws -> Convene_Consultation_V1_MeetingRequest {
        try await f.client.unary(CM.requestMeeting, Convene_Consultation_V1_RequestMeetingRequest.with {
            $0.operationID = operation; $0.form = .consultationMeeting; $0.reason = "Our contingent's safety"
        }, as: Convene_Consultation_V1_MeetingRequest.self, options: f.options(party))
    }
}
