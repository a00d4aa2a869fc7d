import ConveneClient
import ConveneProtos
import ConveneRPC
import ConveneTransport
import Foundation
import XCTest

/// Who a convened meeting invites, through the real server: an account that only operates the
/// server is no party to any meeting, whatever its kind; the convener of an II.D consultation
/// takes part in it.
final class InvitationServiceTests: OperationTestCase {
    func testAnAccountThatOnlyOperatesTheServerIsInvitedToNoMeeting() async throws {
        let admin = CallOptions.bearer(try f.adminToken)
        // As scripts/convene_admin.py registers the load generator's account.
        let party = try await f.client.unary(AM.registerParty, Convene_Admin_V1_RegisterPartyRequest.with {
            $0.name = "Operator for load"; $0.kind = .secretariat; $0.roles = [.operator]
        }, as: Convene_Parties_V1_Party.self, options: admin)
        let issued = try await f.client.unary(AM.issueCredential, Convene_Admin_V1_IssueCredentialRequest.with {
            $0.partyID = party.id; $0.label = "load"
        }, as: Convene_Admin_V1_IssueCredentialResponse.self, options: admin)
        let meetings = [try await f.convene(operation, form: .councilConsultations),
                        try await f.convene(operation),
                        try await f.convene(operation, form: .secretariatMeeting, as: "Secretariat", paper: false)]
        for meeting in meetings {
            XCTAssertFalse(meeting.invitations.contains { $0.partyID == party.id }, "\(meeting.form): \(meeting.invitations)")
            XCTAssertTrue(meeting.invitations.contains { $0.partyID == f.ids["Secretariat"]! }, "\(meeting.form)")
            await assertRPCError(.notFound) {
                _ = try await self.f.client.unary(CM.getMeeting, Convene_Consultation_V1_GetMeetingRequest.with { $0.meetingID = meeting.id },
                                                  as: Convene_Consultation_V1_Meeting.self, options: .bearer(issued.token))
            }
        }
        let proposal = try await f.client.unary(CM.proposeInvitations, Convene_Consultation_V1_ProposeInvitationsRequest.with {
            $0.operationID = operation; $0.form = .consultationMeeting
        }, as: Convene_Consultation_V1_ProposeInvitationsResponse.self, options: f.options("President"))
        XCTAssertFalse((proposal.required + proposal.optional).contains { $0.partyID == party.id })
    }

    func testTheConvenerOfAnOtherConsultationIsInvitedToIt() async throws {
        for convener in ["Member", "Secretariat"] {
            let meeting = try await f.convene(operation, form: .otherConsultation, as: convener, extra: ["Troops"], paper: false)
            XCTAssertEqual(Set(meeting.invitations.map(\.partyID)), [f.ids[convener]!, f.ids["Troops"]!], convener)
            let seen = try await f.client.unary(CM.getMeeting, Convene_Consultation_V1_GetMeetingRequest.with { $0.meetingID = meeting.id },
                                                as: Convene_Consultation_V1_Meeting.self, options: f.options(convener))
            XCTAssertEqual(seen.id, meeting.id)
        }
    }

    /// A contributor the form invites only "as appropriate" (a regional organization contributing
    /// troops, II.B.3(g); a country contributing other civilian personnel, II.B.3(e)) asks for a
    /// meeting: the meeting convened at its request invites it, its concerns being the topics.
    func testTheMeetingConvenedAtARequestInvitesTheRequester() async throws {
        for (party, kind) in [("Regional", Convene_Consultation_V1_ContributionKind.troops), ("Donor", .otherCivilianPersonnel)] {
            _ = try await f.client.unary(CM.recordContribution, Convene_Consultation_V1_RecordContributionRequest.with {
                $0.operationID = operation; $0.partyID = f.ids[party]!; $0.kind = kind; $0.quantity = 40
            }, as: Convene_Consultation_V1_Contribution.self, options: f.options("Secretariat"))
            let request = try await f.client.unary(CM.requestMeeting, Convene_Consultation_V1_RequestMeetingRequest.with {
                $0.operationID = operation; $0.form = .consultationMeeting
                $0.reason = "Our contingent's safety"; $0.concerns = ["Force protection"]
            }, as: Convene_Consultation_V1_MeetingRequest.self, options: f.options(party))
            let meeting = try await f.convene(operation, stage: .unspecified, requestID: request.id)
            let invitation = meeting.invitations.first { $0.partyID == f.ids[party]! }
            XCTAssertEqual(invitation?.role, .participant, "\(party): \(meeting.invitations)")
            let seen = try await f.client.unary(CM.getMeeting, Convene_Consultation_V1_GetMeetingRequest.with { $0.meetingID = meeting.id },
                                                as: Convene_Consultation_V1_Meeting.self, options: f.options(party))
            XCTAssertTrue(seen.topics.contains { $0.description_p == "Force protection" })
        }
    }
}
