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

/// Invitations follow the operation's data until the meeting is held.
final class LateInvitationTests: OperationTestCase {
    func invited(_ meeting: Convene_Consultation_V1_Meeting, by party: String) async throws -> Bool {
        let seen = try? await f.client.unary(CM.getMeeting, Convene_Consultation_V1_GetMeetingRequest.with { $0.meetingID = meeting.id },
                                             as: Convene_Consultation_V1_Meeting.self, options: f.options(party))
        return seen?.invitations.contains { $0.partyID == f.ids[party]! } ?? false
    }

    func testAPartyThatBecomesAContributorOrJoinsTheCouncilIsInvitedToTheMeetingsToCome() async throws {
        let hour: Int64 = 3_600_000
        let past = try await f.convene(operation, at: f.now - hour, pastReason: "Held before the system")
        let coming = try await f.convene(operation, at: f.now + 72 * hour)
        let council = try await f.convene(operation, form: .councilConsultations, stage: .unspecified, at: f.now + 96 * hour, paper: false,
                                          override: "Programme of work")
        let invitedBefore = try await invited(coming, by: "Bystander")
        XCTAssertFalse(invitedBefore)
        _ = try await f.client.unary(CM.recordContribution, Convene_Consultation_V1_RecordContributionRequest.with {
            $0.operationID = operation; $0.partyID = f.ids["Bystander"]!; $0.kind = .troops; $0.quantity = 800
        }, as: Convene_Consultation_V1_Contribution.self, options: f.options("Secretariat"))
        let invitedNow = try await invited(coming, by: "Bystander")
        XCTAssertTrue(invitedNow, "II.B.3(a): a troop contributor is invited")
        let invitedToThePast = try await invited(past, by: "Bystander")
        XCTAssertFalse(invitedToThePast, "a past meeting records who was there")
        // The host country joins the Council.
        _ = try await f.client.unary(AM.setRoles, Convene_Admin_V1_SetRolesRequest.with {
            $0.partyID = f.ids["Host"]!; $0.roles = [.councilMember]
        }, as: Convene_Parties_V1_Party.self, options: .bearer(try f.adminToken))
        let councilInvited = try await invited(council, by: "Host")
        XCTAssertTrue(councilInvited, "II.B.1: the Council's consultations to come are its members'")
        let meeting = try await f.client.unary(CM.getMeeting, Convene_Consultation_V1_GetMeetingRequest.with { $0.meetingID = coming.id },
                                               as: Convene_Consultation_V1_Meeting.self, options: f.options("Host"))
        XCTAssertEqual(meeting.invitations.first { $0.partyID == f.ids["Host"]! }?.category, .council)
    }
}

extension LateInvitationTests {
    /// II.B.3(f) then (a): the host country, invited to observe, that sends troops is invited to
    /// the meetings to come as a contributor, and speaks there; a meeting held keeps its record.
    func testAnObserverThatStartsContributingTakesAContributorsPlaceInTheMeetingsToCome() async throws {
        let hour: Int64 = 3_600_000
        let past = try await f.convene(operation, at: f.now - hour, extra: ["Host"], pastReason: "Held before the system")
        let coming = try await f.convene(operation, at: f.now + 72 * hour, extra: ["Host"])
        func hostsPlace(in meeting: Convene_Consultation_V1_Meeting) async throws -> Convene_Consultation_V1_Invitation? {
            try await f.client.unary(CM.getMeeting, Convene_Consultation_V1_GetMeetingRequest.with { $0.meetingID = meeting.id },
                                     as: Convene_Consultation_V1_Meeting.self, options: f.options("President"))
                .invitations.first { $0.partyID == f.ids["Host"]! }
        }
        let before = try await hostsPlace(in: coming)
        XCTAssertEqual(before?.category, .hostCountryObserver)
        _ = try await f.client.unary(CM.recordContribution, Convene_Consultation_V1_RecordContributionRequest.with {
            $0.operationID = operation; $0.partyID = f.ids["Host"]!; $0.kind = .troops; $0.quantity = 300
        }, as: Convene_Consultation_V1_Contribution.self, options: f.options("Secretariat"))
        let now = try await hostsPlace(in: coming)
        XCTAssertEqual(now?.category, .troopPoliceContributor, "II.B.3(a): a contributor, not an observer")
        XCTAssertEqual(now?.role, .participant)
        XCTAssertEqual(now?.required, true)
        let statement = try await f.client.unary(CM.recordStatement, Convene_Consultation_V1_RecordStatementRequest.with {
            $0.meetingID = coming.id; $0.text = "Our battalion deploys in March."
        }, as: Convene_Consultation_V1_Statement.self, options: f.options("Host"))
        XCTAssertEqual(statement.text, "Our battalion deploys in March.")
        let held = try await hostsPlace(in: past)
        XCTAssertEqual(held?.category, .hostCountryObserver, "a past meeting records who was there, and as what")
    }

    /// II.B.5(c): a fact sheet issued ahead of the meeting is handed to all its participants at
    /// the start: a party invited since (a new contributor) is among its recipients, and reads it.
    func testAFactSheetIssuedAheadReachesThoseInvitedSince() async throws {
        let hour: Int64 = 3_600_000
        let coming = try await f.convene(operation, at: f.now + 72 * hour)
        let issued = try await f.client.unary(BM.issueFactSheet, Convene_Briefing_V1_IssueFactSheetRequest.with {
            $0.meetingID = coming.id; $0.title = "UNMIX at a glance"; $0.content = "Strength: 970"
        }, as: Convene_Briefing_V1_FactSheet.self, options: f.options("Secretariat"))
        XCTAssertFalse(issued.recipientIds.contains(f.ids["Bystander"]!))
        _ = try await f.client.unary(CM.recordContribution, Convene_Consultation_V1_RecordContributionRequest.with {
            $0.operationID = operation; $0.partyID = f.ids["Bystander"]!; $0.kind = .troops; $0.quantity = 800
        }, as: Convene_Consultation_V1_Contribution.self, options: f.options("Secretariat"))
        let meeting = try await f.client.unary(CM.getMeeting, Convene_Consultation_V1_GetMeetingRequest.with { $0.meetingID = coming.id },
                                               as: Convene_Consultation_V1_Meeting.self, options: f.options("President"))
        for reader in ["Bystander", "Secretariat"] {
            let sheets = try await f.client.unary(BM.listFactSheets, Convene_Briefing_V1_ListFactSheetsRequest.with { $0.meetingID = coming.id },
                                                  as: Convene_Briefing_V1_ListFactSheetsResponse.self, options: f.options(reader))
            XCTAssertEqual(sheets.factSheets.map(\.id), [issued.id], reader)
            XCTAssertEqual(Set(sheets.factSheets.first?.recipientIds ?? []), Set(meeting.invitations.map(\.partyID)), reader)
            XCTAssertTrue(sheets.factSheets.first?.recipientIds.contains(f.ids["Bystander"]!) == true, reader)
        }
    }

    func testAStateThatJoinsTheCouncilReadsTheSummariesCirculatedToIt() async throws {
        let meeting = try await f.convene(operation, at: f.now + 3_600_000)
        f.advance(to: f.now + 2 * 3_600_000)
        _ = try await f.client.unary(CM.markMeetingHeld, Convene_Consultation_V1_MarkMeetingHeldRequest.with { $0.meetingID = meeting.id },
                                     as: Convene_Consultation_V1_Meeting.self, options: f.options("President"))
        _ = try await f.client.unary(CM.prepareSummary, Convene_Consultation_V1_PrepareSummaryRequest.with {
            $0.meetingID = meeting.id; $0.text = "Contributors asked for air assets."
        }, as: Convene_Consultation_V1_Summary.self, options: f.options("Secretariat"))
        _ = try await f.client.unary(AM.setRoles, Convene_Admin_V1_SetRolesRequest.with {
            $0.partyID = f.ids["Bystander"]!; $0.roles = [.councilMember]
        }, as: Convene_Parties_V1_Party.self, options: .bearer(try f.adminToken))
        let summary = Convene_Consultation_V1_GetSummaryRequest.with { $0.meetingID = meeting.id }
        // Not yet circulated: to a member never invited, the meeting does not exist.
        await assertRPCError(.notFound) {
            _ = try await self.f.client.unary(CM.getSummary, summary, as: Convene_Consultation_V1_Summary.self, options: self.f.options("Bystander"))
        }
        _ = try await f.client.unary(CM.circulateSummary, Convene_Consultation_V1_CirculateSummaryRequest.with { $0.meetingID = meeting.id },
                                     as: Convene_Consultation_V1_Summary.self, options: f.options("President"))
        let read = try await f.client.unary(CM.getSummary, summary, as: Convene_Consultation_V1_Summary.self, options: f.options("Bystander"))
        XCTAssertEqual(read.text, "Contributors asked for air assets.")
        await assertRPCError(.permissionDenied, containing: "II.B.6") {
            _ = try await self.f.client.unary(CM.getSummary, summary, as: Convene_Consultation_V1_Summary.self, options: self.f.options("Troops"))
        }
    }
}

extension LateInvitationTests {
    /// Invitations held by a role go with it: a member that leaves the Council, staff that leave
    /// the Secretariat, no longer read or speak in the meetings to come, nor read the operation
    /// through them; a meeting held still records who was there.
    /// A Council member that also contributes troops, invited as a Council member, leaves the
    /// Council: the meetings it took part in are still its own as a contributor (II.B.3(a)),
    /// not the Council's own consultations (II.B.5(b), II.B.6).
    func testAContributorThatLeavesTheCouncilStillSeesTheMeetingsItTookPartIn() async throws {
        let hour: Int64 = 3_600_000
        func setRoles(_ roles: [Convene_Parties_V1_Role]) async throws {
            _ = try await f.client.unary(AM.setRoles, Convene_Admin_V1_SetRolesRequest.with { $0.partyID = f.ids["Troops"]!; $0.roles = roles },
                                         as: Convene_Parties_V1_Party.self, options: .bearer(try f.adminToken))
        }
        try await setRoles([.councilMember])
        let held = try await f.convene(operation, at: f.now + hour)
        let council = try await f.convene(operation, form: .councilConsultations, stage: .unspecified, at: f.now + hour, paper: false,
                                          override: "Programme of work")
        XCTAssertEqual(held.invitations.first { $0.partyID == f.ids["Troops"]! }?.category, .council)
        f.advance(to: f.now + 2 * hour)
        for meeting in [held, council] {
            _ = try await f.client.unary(CM.markMeetingHeld, Convene_Consultation_V1_MarkMeetingHeldRequest.with { $0.meetingID = meeting.id },
                                         as: Convene_Consultation_V1_Meeting.self, options: f.options("President"))
        }
        try await setRoles([])
        let seen = try await f.client.unary(CM.getMeeting, Convene_Consultation_V1_GetMeetingRequest.with { $0.meetingID = held.id },
                                            as: Convene_Consultation_V1_Meeting.self, options: f.options("Troops"))
        XCTAssertEqual(seen.invitations.first { $0.partyID == f.ids["Troops"]! }?.category, .troopPoliceContributor,
                       "recorded now as what it is in its own right")
        await assertRPCError(.notFound) {
            _ = try await self.f.client.unary(CM.getMeeting, Convene_Consultation_V1_GetMeetingRequest.with { $0.meetingID = council.id },
                                              as: Convene_Consultation_V1_Meeting.self, options: self.f.options("Troops"))
        }
        let listed = try await f.client.unary(CM.listMeetings, Convene_Consultation_V1_ListMeetingsRequest.with { $0.operationID = operation },
                                              as: Convene_Consultation_V1_ListMeetingsResponse.self, options: f.options("Troops"))
        XCTAssertTrue(listed.meetings.contains { $0.id == held.id })
        XCTAssertFalse(listed.meetings.contains { $0.id == council.id })
    }

    func testAPartyThatLosesItsRoleLosesTheInvitationsItHeldByIt() async throws {
        let hour: Int64 = 3_600_000
        let held = try await f.convene(operation, at: f.now + hour)
        f.advance(to: f.now + 2 * hour)
        _ = try await f.client.unary(CM.markMeetingHeld, Convene_Consultation_V1_MarkMeetingHeldRequest.with { $0.meetingID = held.id },
                                     as: Convene_Consultation_V1_Meeting.self, options: f.options("President"))
        let council = try await f.convene(operation, form: .councilConsultations, stage: .unspecified, at: f.now + 96 * hour, paper: false,
                                          override: "Programme of work")
        for party in ["Member", "Secretariat"] {
            XCTAssertTrue(council.invitations.contains { $0.partyID == f.ids[party]! }, "\(party) is invited by its role")
            _ = try await f.client.unary(AM.setRoles, Convene_Admin_V1_SetRolesRequest.with { $0.partyID = f.ids[party]!; $0.roles = [] },
                                         as: Convene_Parties_V1_Party.self, options: .bearer(try f.adminToken))
        }
        func statement(_ meeting: String, by party: String) async throws {
            _ = try await f.client.unary(CM.recordStatement, Convene_Consultation_V1_RecordStatementRequest.with {
                $0.meetingID = meeting; $0.text = "We will vote against the draft"
            }, as: Convene_Consultation_V1_Statement.self, options: f.options(party))
        }
        for party in ["Member", "Secretariat"] {
            await assertRPCError(.notFound) {  // a meeting to come is no longer its
                _ = try await self.f.client.unary(CM.getMeeting, Convene_Consultation_V1_GetMeetingRequest.with { $0.meetingID = council.id },
                                                  as: Convene_Consultation_V1_Meeting.self, options: self.f.options(party))
            }
            await assertRPCError(.notFound) { try await statement(council.id, by: party) }
            await assertRPCError(.permissionDenied) {  // it read the operation by its role, not by the invitation
                _ = try await self.f.client.unary(CM.listContributions, Convene_Consultation_V1_ListContributionsRequest.with {
                    $0.operationID = self.operation
                }, as: Convene_Consultation_V1_ListContributionsResponse.self, options: self.f.options(party))
            }
            // The meeting held keeps the invitation (it records who was there), but the party
            // reads it by the role no more: neither it nor what is said there after it left.
            await assertRPCError(.notFound) {
                _ = try await self.f.client.unary(CM.getMeeting, Convene_Consultation_V1_GetMeetingRequest.with { $0.meetingID = held.id },
                                                  as: Convene_Consultation_V1_Meeting.self, options: self.f.options(party))
            }
            let listed = try await f.client.unary(CM.listMeetings, Convene_Consultation_V1_ListMeetingsRequest.with { $0.operationID = operation },
                                                  as: Convene_Consultation_V1_ListMeetingsResponse.self, options: f.options(party))
            XCTAssertEqual(listed.meetings.map(\.id), [], "\(party) lists none of the meetings it was invited to by its role")
            await assertRPCError(.notFound) { try await statement(held.id, by: party) }
        }
        let record = try await f.client.unary(CM.getMeeting, Convene_Consultation_V1_GetMeetingRequest.with { $0.meetingID = held.id },
                                              as: Convene_Consultation_V1_Meeting.self, options: f.options("President"))
        for party in ["Member", "Secretariat"] {
            XCTAssertTrue(record.invitations.contains { $0.partyID == f.ids[party]! }, "the meeting held records that \(party) was there")
        }
        let now = try await f.client.unary(CM.getMeeting, Convene_Consultation_V1_GetMeetingRequest.with { $0.meetingID = council.id },
                                           as: Convene_Consultation_V1_Meeting.self, options: f.options("President"))
        XCTAssertFalse(now.invitations.contains { [f.ids["Member"], f.ids["Secretariat"]].contains($0.partyID) }, "\(now.invitations)")
    }
}
