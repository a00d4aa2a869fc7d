import ConveneClient
import ConveneProtos
import ConveneRPC
import ConveneTransport
import Foundation
import SwiftProtobuf
import XCTest

/// The Swift mechanism plugins through the real server: reconnaissance visits (I.B.6),
/// Security Council missions (I.B.5), public information (I.B.10-12) and the six-month
/// follow-up assessment (I.D.1, OP.3).
class MechanismPluginTests: OperationTestCase {
    override class var builtPlugins: Bool { true }

    /// Plugins keep their own times by the system's clock: so does the server here.
    override var clock: ManualClock? { nil }

    func call<R: SwiftProtobuf.Message>(_ service: String, _ method: String, _ request: some SwiftProtobuf.Message,
                                        as: R.Type, by party: String) async throws -> R {
        try await f.call(service, method, request, as: R.self, by: party)
    }

    func testReconnaissanceVisits() async throws {
        let s = "convene.recon.v1.ReconnaissanceVisits"
        typealias V = Convene_Recon_V1_Visit
        await assertRPCError(.permissionDenied, containing: "I.B.6") {
            try await self.call(s, "RequestVisit", Convene_Recon_V1_RequestVisitRequest.with {
                $0.operationID = self.operation; $0.purpose = "x"; $0.teamSize = 4
            }, as: V.self, by: "Donor")
        }
        // A plugin's requests carry a party's texts, checked by the host as the server's own
        // are: no control character or bidirectional override reaches the plugin.
        for (purpose, scalar) in [("Assess\u{1B}[2J the sector", "U+001B"), ("Visit \u{202E}fdp.exe", "U+202E")] {
            await assertRPCError(.invalidArgument, containing: "purpose: contains the control character \(scalar)") {
                try await self.call(s, "RequestVisit", Convene_Recon_V1_RequestVisitRequest.with {
                    $0.operationID = self.operation; $0.purpose = purpose; $0.teamSize = 6
                }, as: V.self, by: "Potential")
            }
        }
        // A potential contributor (II.A.2) may visit before committing.
        let visit = try await call(s, "RequestVisit", Convene_Recon_V1_RequestVisitRequest.with {
            $0.operationID = operation; $0.purpose = "Assess the northern sector for a battalion"; $0.teamSize = 6
        }, as: V.self, by: "Potential")
        XCTAssertEqual(visit.status, .requested)
        _ = try await call(s, "RequestSupport", Convene_Recon_V1_RequestSupportRequest.with {
            $0.visitID = visit.id; $0.need = "Air transport from the capital"
        }, as: V.self, by: "Potential")
        // Another country may not list the visit: it learns nothing of it; the Council lists it.
        for (caller, code) in [("Troops", StatusCode.notFound), ("Member", .permissionDenied)] {
            await assertRPCError(code) {
                try await self.call(s, "RequestSupport", Convene_Recon_V1_RequestSupportRequest.with {
                    $0.visitID = visit.id; $0.need = "Fuel"
                }, as: V.self, by: caller)
            }
        }
        await assertRPCError(.permissionDenied) {
            try await self.call(s, "ScheduleVisit", Convene_Recon_V1_ScheduleVisitRequest.with {
                $0.visitID = visit.id; $0.dates = "x"
            }, as: V.self, by: "Potential")
        }
        await assertRPCError(.failedPrecondition, containing: "not scheduled") {
            try await self.call(s, "SubmitReport", Convene_Recon_V1_SubmitReportRequest.with {
                $0.visitID = visit.id; $0.report = "x"
            }, as: V.self, by: "Potential")
        }
        await assertRPCError(.invalidArgument, containing: "dates: must not be blank") {
            try await self.call(s, "ScheduleVisit", Convene_Recon_V1_ScheduleVisitRequest.with {
                $0.visitID = visit.id; $0.dates = "  "; $0.itinerary = " "
            }, as: V.self, by: "Secretariat")
        }
        _ = try await call(s, "ScheduleVisit", Convene_Recon_V1_ScheduleVisitRequest.with {
            $0.visitID = visit.id; $0.dates = "2027-03-10 to 2027-03-17"; $0.itinerary = "Capital, sector north HQ"
        }, as: V.self, by: "Secretariat")
        _ = try await call(s, "AnswerSupport", Convene_Recon_V1_AnswerSupportRequest.with {
            $0.visitID = visit.id; $0.index = 0; $0.answer = "A mission helicopter on 11 March"
        }, as: V.self, by: "Secretariat")
        // What the country was told stays: a second answer does not replace it.
        await assertRPCError(.failedPrecondition, containing: "was answered already; an answer is not replaced") {
            try await self.call(s, "AnswerSupport", Convene_Recon_V1_AnswerSupportRequest.with {
                $0.visitID = visit.id; $0.index = 0; $0.answer = "No helicopter after all"
            }, as: V.self, by: "Secretariat")
        }
        let done = try await call(s, "SubmitReport", Convene_Recon_V1_SubmitReportRequest.with {
            $0.visitID = visit.id; $0.report = "Sector north can host a battalion from June"
        }, as: V.self, by: "Potential")
        await assertRPCError(.failedPrecondition, containing: "was reported on already") {
            try await self.call(s, "SubmitReport", Convene_Recon_V1_SubmitReportRequest.with {
                $0.visitID = visit.id; $0.report = "Again"
            }, as: V.self, by: "Potential")
        }
        XCTAssertEqual(done.status, .completed)
        XCTAssertEqual(done.support.first?.answer, "A mission helicopter on 11 March")
        let own = try await call(s, "ListVisits", Convene_Recon_V1_ListVisitsRequest.with { $0.operationID = operation },
                                 as: Convene_Recon_V1_ListVisitsResponse.self, by: "Troops")
        XCTAssertTrue(own.visits.isEmpty, "a country sees its own visits")
        let all = try await call(s, "ListVisits", Convene_Recon_V1_ListVisitsRequest.with { $0.operationID = operation },
                                 as: Convene_Recon_V1_ListVisitsResponse.self, by: "Secretariat")
        XCTAssertEqual(all.visits.count, 1)
    }

    func testCouncilMissionsInformContributorsAndLinkTheirConsultations() async throws {
        let s = "convene.missions.v1.CouncilMissions"
        typealias M = Convene_Missions_V1_Mission
        await assertRPCError(.permissionDenied, containing: "I.B.5") {
            try await self.call(s, "PlanMission", Convene_Missions_V1_PlanMissionRequest.with {
                $0.operationID = self.operation; $0.termsOfReference = "x"
            }, as: M.self, by: "Member")
        }
        let mission = try await call(s, "PlanMission", Convene_Missions_V1_PlanMissionRequest.with {
            $0.operationID = operation; $0.termsOfReference = "Assess the ceasefire and the protection of civilians"
            $0.dates = "2027-04-02 to 2027-04-06"
        }, as: M.self, by: "President")
        XCTAssertEqual(Set(mission.receipts.map(\.partyID)), Set(["Troops", "Police", "Donor"].map { f.ids[$0]! }))

        // The consultation before the mission (II.B.2(g)) is linked to it.
        let before = try await f.convene(operation, stage: .councilMission)
        _ = try await call(s, "Acknowledge", Convene_Missions_V1_AcknowledgeRequest.with {
            $0.missionID = mission.id; $0.document = .termsOfReference
        }, as: M.self, by: "Troops")
        await assertRPCError(.failedPrecondition, containing: "no conclusions") {
            try await self.call(s, "Acknowledge", Convene_Missions_V1_AcknowledgeRequest.with {
                $0.missionID = mission.id; $0.document = .conclusions
            }, as: M.self, by: "Troops")
        }
        // A party the mission was not delivered to, and that may not list it, learns nothing of it.
        await assertRPCError(.notFound, containing: "no mission \(mission.id)") {
            try await self.call(s, "Acknowledge", Convene_Missions_V1_AcknowledgeRequest.with {
                $0.missionID = mission.id; $0.document = .termsOfReference
            }, as: M.self, by: "Agency")
        }
        // The Council lists it, so is told why it may not acknowledge it.
        await assertRPCError(.permissionDenied, containing: "was not delivered to the caller") {
            try await self.call(s, "Acknowledge", Convene_Missions_V1_AcknowledgeRequest.with {
                $0.missionID = mission.id; $0.document = .termsOfReference
            }, as: M.self, by: "Member")
        }
        _ = try await call(s, "RecordConclusions", Convene_Missions_V1_RecordConclusionsRequest.with {
            $0.missionID = mission.id; $0.conclusions = "The ceasefire holds in the south; civilians remain at risk in the north"
        }, as: M.self, by: "President")
        // The consultation after the mission: summary of the one before must be circulated first? No: that
        // rule is for the Council's own discussion; a II.B meeting may be convened.
        let after = try await f.convene(operation, stage: .councilMission, at: f.now + 20 * 86_400_000)
        var linked: M?
        for _ in 0..<250 {
            linked = try await call(s, "ListMissions", Convene_Missions_V1_ListMissionsRequest.with { $0.operationID = operation },
                                    as: Convene_Missions_V1_ListMissionsResponse.self, by: "Police").missions.first
            if linked?.consultationAfterMeetingID.isEmpty == false { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        XCTAssertEqual(linked?.consultationBeforeMeetingID, before.id)
        XCTAssertEqual(linked?.consultationAfterMeetingID, after.id)
        XCTAssertEqual(linked?.receipts.first { $0.partyID == f.ids["Troops"] }?.termsAcknowledged, true)
        await assertRPCError(.permissionDenied, containing: "II.B.3") {
            try await self.call(s, "ListMissions", Convene_Missions_V1_ListMissionsRequest.with { $0.operationID = self.operation },
                                as: Convene_Missions_V1_ListMissionsResponse.self, by: "Bystander")
        }
    }

    /// A consultation is placed before or after a mission by when it takes place, one recorded
    /// after the fact included; a country that contributes after the mission was planned is
    /// informed of it too (I.B.5) and acknowledges it.
    func testMissionsFollowWhenConsultationsTakePlaceAndInformLaterContributors() async throws {
        let s = "convene.missions.v1.CouncilMissions"
        typealias M = Convene_Missions_V1_Mission
        let mission = try await call(s, "PlanMission", Convene_Missions_V1_PlanMissionRequest.with {
            $0.operationID = operation; $0.termsOfReference = "Assess the ceasefire"
        }, as: M.self, by: "President")
        try await Task.sleep(for: .milliseconds(5))
        _ = try await call(s, "RecordConclusions", Convene_Missions_V1_RecordConclusionsRequest.with {
            $0.missionID = mission.id; $0.conclusions = "The ceasefire holds"
        }, as: M.self, by: "President")
        // Held five hours ago, before the conclusions, and recorded only now.
        let before = try await f.convene(operation, stage: .councilMission, at: f.now - 5 * 3_600_000,
                                         pastReason: "Held during the mission's visit")
        var linked: M?
        for _ in 0..<250 {
            linked = try await call(s, "ListMissions", Convene_Missions_V1_ListMissionsRequest.with { $0.operationID = operation },
                                    as: Convene_Missions_V1_ListMissionsResponse.self, by: "Secretariat").missions.first
            if linked?.consultationBeforeMeetingID.isEmpty == false || linked?.consultationAfterMeetingID.isEmpty == false { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        XCTAssertEqual(linked?.consultationBeforeMeetingID, before.id)
        XCTAssertEqual(linked?.consultationAfterMeetingID, "")

        _ = try await f.client.unary(CM.recordContribution, Convene_Consultation_V1_RecordContributionRequest.with {
            $0.operationID = operation; $0.partyID = f.ids["Potential"]!; $0.kind = .troops; $0.quantity = 300
        }, as: Convene_Consultation_V1_Contribution.self, options: f.options("Secretariat"))
        let acknowledged = try await call(s, "Acknowledge", Convene_Missions_V1_AcknowledgeRequest.with {
            $0.missionID = mission.id; $0.document = .conclusions
        }, as: M.self, by: "Potential")
        XCTAssertEqual(acknowledged.receipts.first { $0.partyID == f.ids["Potential"] }?.conclusionsAcknowledged, true)
        await assertRPCError(.permissionDenied, containing: "was not delivered to the caller") {
            try await self.call(s, "Acknowledge", Convene_Missions_V1_AcknowledgeRequest.with {
                $0.missionID = mission.id; $0.document = .termsOfReference
            }, as: M.self, by: "Member")
        }
    }

    /// A terminated operation takes no new reconnaissance visit (I.B.6), Security Council
    /// mission (I.B.5), public information campaign (I.B.10) or Group of Friends' work (I.C.2):
    /// each prepares or accompanies an operation under way.
    func testATerminatedOperationTakesNoNewVisitMissionOrCampaign() async throws {
        let friends = "convene.friends.v1.GroupsOfFriends"
        let group = try await f.formGroupOfFriends(on: operation, named: "Friends of the transition", member: "Member", as: .councilMember)
        // A visit requested before the termination is not scheduled after it (it can be declined).
        let pending = try await call("convene.recon.v1.ReconnaissanceVisits", "RequestVisit", Convene_Recon_V1_RequestVisitRequest.with {
            $0.operationID = operation; $0.purpose = "Assess the southern sector"; $0.teamSize = 4
        }, as: Convene_Recon_V1_Visit.self, by: "Potential")
        _ = try await f.client.unary(CM.updateMandate, Convene_Consultation_V1_UpdateMandateRequest.with {
            $0.operationID = operation; $0.phase = .terminated
        }, as: Convene_Consultation_V1_Operation.self, options: f.options("President"))
        await assertRPCError(.failedPrecondition, containing: "is terminated; reconnaissance visits prepare countries to deploy (I.B.6): decline the visit") {
            try await self.call("convene.recon.v1.ReconnaissanceVisits", "ScheduleVisit", Convene_Recon_V1_ScheduleVisitRequest.with {
                $0.visitID = pending.id; $0.dates = "2027-05-01"
            }, as: Convene_Recon_V1_Visit.self, by: "Secretariat")
        }
        await assertRPCError(.failedPrecondition, containing: "is terminated; reconnaissance visits prepare countries to deploy (I.B.6)") {
            try await self.call("convene.recon.v1.ReconnaissanceVisits", "RequestVisit", Convene_Recon_V1_RequestVisitRequest.with {
                $0.operationID = self.operation; $0.purpose = "Assess the northern sector"; $0.teamSize = 6
            }, as: Convene_Recon_V1_Visit.self, by: "Potential")
        }
        await assertRPCError(.failedPrecondition, containing: "is terminated; Security Council missions go to peacekeeping operations under way (I.B.5)") {
            try await self.call("convene.missions.v1.CouncilMissions", "PlanMission", Convene_Missions_V1_PlanMissionRequest.with {
                $0.operationID = self.operation; $0.termsOfReference = "Assess the transition"
            }, as: Convene_Missions_V1_Mission.self, by: "President")
        }
        await assertRPCError(.failedPrecondition, containing: "is terminated; its public information campaigns ended with it (I.B.10)") {
            try await self.call("convene.publicinfo.v1.PublicInformation", "LaunchCampaign", Convene_Publicinfo_V1_LaunchCampaignRequest.with {
                $0.operationID = self.operation; $0.audience = .local; $0.message = "The mission protects civilians"
            }, as: Convene_Publicinfo_V1_Campaign.self, by: "Secretariat")
        }
        let ended = "is terminated; its Groups of Friends worked with the Council while it was under way (I.C.2)"
        await assertRPCError(.failedPrecondition, containing: ended) {
            try await self.call(friends, "FormGroup", Convene_Friends_V1_FormGroupRequest.with {
                $0.operationID = self.operation; $0.name = "Friends of the aftermath"
            }, as: Convene_Friends_V1_Group.self, by: "Secretariat")
        }
        await assertRPCError(.failedPrecondition, containing: ended) {
            try await self.call(friends, "AddMember", Convene_Friends_V1_AddMemberRequest.with {
                $0.groupID = group.id; $0.partyID = self.f.ids["Troops"]!; $0.kind = .contributor
            }, as: Convene_Friends_V1_Group.self, by: "Secretariat")
        }
        for recorder in ["Secretariat", "Member"] {
            await assertRPCError(.failedPrecondition, containing: ended) {
                try await self.call(friends, "RecordCoordination", Convene_Friends_V1_RecordCoordinationRequest.with {
                    $0.groupID = group.id; $0.note = "Briefed the Council"
                }, as: Convene_Friends_V1_Group.self, by: recorder)
            }
        }
    }

    func testPublicInformation() async throws {
        let s = "convene.publicinfo.v1.PublicInformation"
        _ = try await call(s, "LaunchCampaign", Convene_Publicinfo_V1_LaunchCampaignRequest.with {
            $0.operationID = operation; $0.audience = .local; $0.message = "The mission protects civilians"; $0.channels = ["radio"]
        }, as: Convene_Publicinfo_V1_Campaign.self, by: "Secretariat")
        await assertRPCError(.permissionDenied) {
            try await self.call(s, "LaunchCampaign", Convene_Publicinfo_V1_LaunchCampaignRequest.with {
                $0.operationID = self.operation; $0.audience = .local; $0.message = "x"
            }, as: Convene_Publicinfo_V1_Campaign.self, by: "Troops")
        }
        for (channels, refusal) in [(["radio", "Radio"], "channels[1]: 'Radio' is named twice"), (["radio", " "], "channels[1]: must not be blank")] {
            await assertRPCError(.invalidArgument, containing: refusal) {
                try await self.call(s, "LaunchCampaign", Convene_Publicinfo_V1_LaunchCampaignRequest.with {
                    $0.operationID = self.operation; $0.audience = .local; $0.message = "x"; $0.channels = channels
                }, as: Convene_Publicinfo_V1_Campaign.self, by: "Secretariat")
            }
        }
        _ = try await call(s, "AddProgramme", Convene_Publicinfo_V1_AddProgrammeRequest.with {
            $0.operationID = operation; $0.countryPartyID = f.ids["Troops"]!; $0.title = "Our blue helmets"
        }, as: Convene_Publicinfo_V1_Programme.self, by: "Troops")
        await assertRPCError(.failedPrecondition, containing: "I.B.11") {
            try await self.call(s, "AddProgramme", Convene_Publicinfo_V1_AddProgrammeRequest.with {
                $0.operationID = self.operation; $0.countryPartyID = self.f.ids["Donor"]!; $0.title = "x"
            }, as: Convene_Publicinfo_V1_Programme.self, by: "Donor")
        }
        let activities = try await call(s, "ListActivities", Convene_Publicinfo_V1_ListActivitiesRequest.with { $0.operationID = operation },
                                        as: Convene_Publicinfo_V1_ListActivitiesResponse.self, by: "Police")
        XCTAssertEqual(activities.campaigns.count, 1)
        XCTAssertEqual(activities.programmes.map(\.title), ["Our blue helmets"])
        // A UN agency with no contribution or invitation on the operation knows only that it exists.
        await assertRPCError(.permissionDenied, containing: "II.B.3") {
            try await self.call(s, "ListActivities", Convene_Publicinfo_V1_ListActivitiesRequest.with { $0.operationID = self.operation },
                                as: Convene_Publicinfo_V1_ListActivitiesResponse.self, by: "Agency")
        }
        // An operation left out is the request's fault, named, as the services say.
        await assertRPCError(.invalidArgument, containing: "operation_id: required") {
            try await self.call(s, "ListActivities", Convene_Publicinfo_V1_ListActivitiesRequest(),
                                as: Convene_Publicinfo_V1_ListActivitiesResponse.self, by: "Police")
        }
        await assertRPCError(.invalidArgument, containing: "operation_id: required") {
            try await self.call("convene.missions.v1.CouncilMissions", "ListMissions", Convene_Missions_V1_ListMissionsRequest(),
                                as: Convene_Missions_V1_ListMissionsResponse.self, by: "Police")
        }
    }

    func testSixMonthAssessment() async throws {
        let s = "convene.assessment.v1.FollowUpAssessment"
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let held = try await f.convene(operation, stage: .mandateRenewal, at: now - 10 * 86_400_000,
                                       pastReason: "Held before the operation's consultations were recorded here")
        _ = try await f.convene(operation, stage: .rapidDeterioration, at: now - 5 * 86_400_000,
                                pastReason: "Held by video link during the outage")
        _ = try await f.client.unary(CM.recordStatement, Convene_Consultation_V1_RecordStatementRequest.with {
            $0.meetingID = held.id; $0.text = "Concern"; $0.concern = true
        }, as: Convene_Consultation_V1_Statement.self, options: f.options("Troops"))
        _ = try await f.client.unary(CM.markMeetingHeld, Convene_Consultation_V1_MarkMeetingHeldRequest.with { $0.meetingID = held.id },
                                     as: Convene_Consultation_V1_Meeting.self, options: f.options("President"))
        for (method, party) in [("PrepareSummary", "Secretariat"), ("CirculateSummary", "President")] {
            var request = Convene_Consultation_V1_PrepareSummaryRequest.with { $0.meetingID = held.id; $0.text = "Summary" }
            if method == "CirculateSummary" {
                _ = try await f.client.unary(CM.circulateSummary, Convene_Consultation_V1_CirculateSummaryRequest.with { $0.meetingID = held.id },
                                             as: Convene_Consultation_V1_Summary.self, options: f.options(party))
            } else {
                request.text = "Summary"
                _ = try await f.client.unary(CM.prepareSummary, request, as: Convene_Consultation_V1_Summary.self, options: f.options(party))
            }
        }
        _ = try await call(s, "SubmitProposal", Convene_Assessment_V1_SubmitProposalRequest.with {
            $0.text = "Hold a monthly informal briefing for contributors of each operation"
        }, as: Convene_Assessment_V1_Proposal.self, by: "Police")
        // The proposals considered are the troop-contributing countries' (OP.3, I.D.1): not a donor's.
        await assertRPCError(.permissionDenied, containing: "OP.3") {
            try await self.call(s, "SubmitProposal", Convene_Assessment_V1_SubmitProposalRequest.with { $0.text = "Fund it" },
                                as: Convene_Assessment_V1_Proposal.self, by: "Donor")
        }
        await assertRPCError(.permissionDenied, containing: "OP.3") {
            try await self.call(s, "Assess", Convene_Assessment_V1_AssessRequest(), as: Convene_Assessment_V1_Assessment.self, by: "Troops")
        }
        let assessment = try await call(s, "Assess", Convene_Assessment_V1_AssessRequest(),
                                        as: Convene_Assessment_V1_Assessment.self, by: "Member")
        XCTAssertEqual(assessment.meetings, 2)
        XCTAssertEqual(assessment.meetingsByForm.map { "\($0.name)=\($0.count)" }, ["II.B=2"])
        XCTAssertEqual(assessment.meetingsByStage.map { "\($0.name)=\($0.count)" }, ["II.B.2(c)=1", "II.B.2(e)=1"])
        XCTAssertEqual(assessment.informalPaperShare, 1)
        XCTAssertEqual(assessment.summariesCirculatedShare, 1)
        XCTAssertEqual(assessment.summariesInTimeShare, 1, "no Council discussion came before the circulation")
        XCTAssertEqual(assessment.concernsRaised, 1)
        XCTAssertEqual(assessment.concernsAnswered, 0)
        XCTAssertEqual(assessment.proposals.map(\.partyID), [f.ids["Police"]!])
        XCTAssertGreaterThan(assessment.participationShare, 0)
        // A one-day window leaves both meetings out.
        let recent = try await call(s, "Assess", Convene_Assessment_V1_AssessRequest.with { $0.windowDays = 1 },
                                    as: Convene_Assessment_V1_Assessment.self, by: "Secretariat")
        XCTAssertEqual(recent.meetings, 0)
    }

    /// A text a mechanism requires is refused blank (white space only, Unicode's included),
    /// as the server's own services refuse it, in the C plugins and the Swift ones alike; a
    /// blank conclusion would otherwise stand for good (I.B.5, I.C.1: recorded once).
    func testBlankTextsAreRefusedByTheMechanisms() async throws {
        let blank = " \t\n\u{00A0}\u{3000}"
        let cases: [(String, String, any SwiftProtobuf.Message, String, String)] = [
            ("convene.missions.v1.CouncilMissions", "PlanMission", Convene_Missions_V1_PlanMissionRequest.with {
                $0.operationID = operation; $0.termsOfReference = blank
            }, "President", "terms_of_reference: must not be blank (I.B.5)"),
            ("convene.msc.v1.MilitaryStaffCommittee", "CloseReview", Convene_Msc_V1_CloseReviewRequest.with {
                $0.reviewID = "rev-1"; $0.conclusion = blank
            }, "President", "conclusion: must not be blank"),
            ("convene.msc.v1.MilitaryStaffCommittee", "SubmitFinding", Convene_Msc_V1_SubmitFindingRequest.with {
                $0.reviewID = "rev-1"; $0.text = "  "
            }, "Member", "text: must not be blank"),
            ("convene.friends.v1.GroupsOfFriends", "FormGroup", Convene_Friends_V1_FormGroupRequest.with {
                $0.operationID = operation; $0.name = blank
            }, "Secretariat", "name: must not be blank"),
            ("convene.recon.v1.ReconnaissanceVisits", "RequestVisit", Convene_Recon_V1_RequestVisitRequest.with {
                $0.operationID = operation; $0.purpose = blank; $0.teamSize = 6
            }, "Potential", "purpose: must not be blank"),
            ("convene.assessment.v1.FollowUpAssessment", "SubmitProposal", Convene_Assessment_V1_SubmitProposalRequest.with {
                $0.text = blank
            }, "Troops", "text: must not be blank"),
            ("convene.friends.v1.GroupsOfFriends", "FormGroup", Convene_Friends_V1_FormGroupRequest.with {
                $0.operationID = operation; $0.name = ""
            }, "Secretariat", "name: required"),
        ]
        for (service, method, request, caller, message) in cases {
            let error = await assertRPCError(.invalidArgument) {
                _ = try await self.f.call(service, method, request, as: SwiftProtobuf.Google_Protobuf_Empty.self, by: caller)
            }
            XCTAssertEqual(error?.message, message, "\(service)/\(method)")
        }
        // A blank conclusion leaves the mission open to its real one.
        let s = "convene.missions.v1.CouncilMissions"
        let mission = try await call(s, "PlanMission", Convene_Missions_V1_PlanMissionRequest.with {
            $0.operationID = operation; $0.termsOfReference = "Assess the ceasefire"
        }, as: Convene_Missions_V1_Mission.self, by: "President")
        await assertRPCError(.invalidArgument, containing: "conclusions: must not be blank") {
            _ = try await self.call(s, "RecordConclusions", Convene_Missions_V1_RecordConclusionsRequest.with {
                $0.missionID = mission.id; $0.conclusions = blank
            }, as: Convene_Missions_V1_Mission.self, by: "President")
        }
        let concluded = try await call(s, "RecordConclusions", Convene_Missions_V1_RecordConclusionsRequest.with {
            $0.missionID = mission.id; $0.conclusions = "The ceasefire holds"
        }, as: Convene_Missions_V1_Mission.self, by: "President")
        XCTAssertEqual(concluded.conclusions, "The ceasefire holds")
    }
}
