import ConveneClient
import ConveneProtos
import ConveneRPC
import ConveneStore
import ConveneTransport
import Foundation
import XCTest

/// Every rule of Annex II through the real server.
final class ConsultationTests: OperationTestCase {

    func invitation(_ meeting: Convene_Consultation_V1_Meeting, _ name: String) -> Convene_Consultation_V1_Invitation? {
        meeting.invitations.first { $0.partyID == f.ids[name] }
    }

    func testInvitationsFollowII_B_3() async throws {
        let proposal = try await f.client.unary(CM.proposeInvitations, Convene_Consultation_V1_ProposeInvitationsRequest.with {
            $0.operationID = operation; $0.form = .consultationMeeting
        }, as: Convene_Consultation_V1_ProposeInvitationsResponse.self, options: f.options("President"))
        let required = Dictionary(uniqueKeysWithValues: proposal.required.map { ($0.partyName, $0.category) })
        XCTAssertEqual(required["Troops"], .troopPoliceContributor)
        XCTAssertEqual(required["Police"], .troopPoliceContributor)
        XCTAssertEqual(required["Potential"], .potentialContributor)
        XCTAssertEqual(required["President"], .council)
        XCTAssertEqual(required["Secretariat"], .secretariat)
        let optional = Dictionary(uniqueKeysWithValues: proposal.optional.map { ($0.partyName, $0) })
        XCTAssertEqual(optional["Agency"]?.category, .unBodyOrAgency)
        XCTAssertEqual(optional["Donor"]?.category, .specificContributor)
        XCTAssertEqual(optional["Host"]?.category, .hostCountryObserver)
        XCTAssertEqual(optional["Host"]?.role, .observer)
        XCTAssertEqual(optional["Host"]?.reason, "the host country is invited as an observer (II.B.3(f))", "the convener sees why")
        XCTAssertTrue(required["Troops"].map { _ in proposal.required.first { $0.partyName == "Troops" }!.reason }?
            .hasPrefix("contributes troops to the operation (II.B.3(a))") == true)
        XCTAssertTrue(proposal.excluded.contains { $0.partyName == "Bystander" && $0.reason.contains("falls in no II.B.3 category") })
        XCTAssertEqual(optional["Regional"]?.role, .observer)
        XCTAssertNil(optional["Bystander"])

        let meeting = try await f.convene(operation, extra: ["Host", "Donor"])
        XCTAssertEqual(invitation(meeting, "Troops")?.required, true)
        XCTAssertEqual(invitation(meeting, "Host")?.role, .observer)
        XCTAssertEqual(invitation(meeting, "Donor")?.category, .specificContributor)
        XCTAssertTrue(invitation(meeting, "Donor")?.reason.contains("II.B.3(e)") == true, "the reason stays with the invitation")
        XCTAssertNil(invitation(meeting, "Agency"), "as appropriate: not chosen, not invited")
        XCTAssertEqual(meeting.informalPaper.agenda, "1. Renewal of the mandate")
        XCTAssertEqual(meeting.summaryStatus, .notPrepared)

        await assertRPCError(.failedPrecondition, containing: "no II.B.3 category") {
            try await self.f.convene(self.operation, extra: ["Bystander"])
        }
    }

    func testConveningRules() async throws {
        await assertRPCError(.permissionDenied, containing: "II.B.1") {
            try await self.f.convene(self.operation, as: "Member")
        }
        await assertRPCError(.permissionDenied, containing: "II.B.1") {
            try await self.f.convene(self.operation, as: "Secretariat")
        }
        await assertRPCError(.failedPrecondition, containing: "II.B.5(a)") {
            try await self.f.convene(self.operation, paper: false)
        }
        await assertRPCError(.invalidArgument, containing: "II.B.2") {
            try await self.f.convene(self.operation, stage: .unspecified)
        }
        // II.C is the Secretariat's, with mission officials.
        let secretariatMeeting = try await f.client.unary(CM.conveneMeeting, Convene_Consultation_V1_ConveneMeetingRequest.with {
            $0.operationID = operation; $0.form = .secretariatMeeting
            $0.scheduledTime = .init(seconds: 1_800_000_000)
            $0.missionOfficials = [.forceCommander, .policeCommissioner]
        }, as: Convene_Consultation_V1_Meeting.self, options: f.options("Secretariat"))
        XCTAssertEqual(secretariatMeeting.missionOfficials, [.forceCommander, .policeCommissioner])
        await assertRPCError(.permissionDenied, containing: "II.C") {
            try await self.f.convene(self.operation, form: .secretariatMeeting)
        }
    }

    func testStatementsAndVisibility() async throws {
        let meeting = try await f.convene(operation, extra: ["Host"])
        let statement = try await f.client.unary(CM.recordStatement, Convene_Consultation_V1_RecordStatementRequest.with {
            $0.meetingID = meeting.id; $0.text = "Our contingent lacks night-vision equipment."; $0.concern = true
        }, as: Convene_Consultation_V1_Statement.self, options: f.options("Troops"))
        XCTAssertTrue(statement.concern)
        await assertRPCError(.permissionDenied, containing: "observers cannot make statements") {
            try await self.f.client.unary(CM.recordStatement, Convene_Consultation_V1_RecordStatementRequest.with {
                $0.meetingID = meeting.id; $0.text = "As host we welcome the renewal."
            }, as: Convene_Consultation_V1_Statement.self, options: self.f.options("Host"))
        }
        // Not invited: the meeting does not exist for them.
        await assertRPCError(.notFound) {
            try await self.f.client.unary(CM.getMeeting, Convene_Consultation_V1_GetMeetingRequest.with { $0.meetingID = meeting.id },
                                          as: Convene_Consultation_V1_Meeting.self, options: self.f.options("Agency"))
        }
        let listed = try await f.client.unary(CM.listMeetings, Convene_Consultation_V1_ListMeetingsRequest(),
                                              as: Convene_Consultation_V1_ListMeetingsResponse.self, options: f.options("Agency"))
        XCTAssertTrue(listed.meetings.isEmpty)
        let seen = try await f.client.unary(CM.getMeeting, Convene_Consultation_V1_GetMeetingRequest.with { $0.meetingID = meeting.id },
                                            as: Convene_Consultation_V1_Meeting.self, options: f.options("Police"))
        XCTAssertEqual(seen.statements.map(\.text), ["Our contingent lacks night-vision equipment."])

        let answered = try await f.client.unary(CM.respondToConcern, Convene_Consultation_V1_RespondToConcernRequest.with {
            $0.statementID = statement.id; $0.response = "Equipment shipped under the letter of assist."
        }, as: Convene_Consultation_V1_Statement.self, options: f.options("Secretariat"))
        XCTAssertEqual(answered.respondedByPartyID, f.ids["Secretariat"])
    }

    func testSummaryMustBeCirculatedBeforeTheCouncilDiscussesTheOperation() async throws {
        let consultation = try await f.convene(operation, at: 1_800_000_000_000)
        // The Council meeting on the same operation, later: blocked while the summary is not circulated.
        let error = await assertRPCError(.failedPrecondition, containing: consultation.id) {
            try await self.f.convene(self.operation, form: .councilMeeting, stage: .unspecified, at: 1_800_100_000_000)
        }
        XCTAssertTrue(error?.message.contains("II.B.6") ?? false)

        await assertRPCError(.failedPrecondition, containing: "not been held") {
            try await self.f.client.unary(CM.prepareSummary, Convene_Consultation_V1_PrepareSummaryRequest.with {
                $0.meetingID = consultation.id; $0.text = "Contributors raised equipment gaps."
            }, as: Convene_Consultation_V1_Summary.self, options: self.f.options("Secretariat"))
        }
        f.advance(to: 1_800_000_000_000)  // the meeting's time
        _ = try await f.client.unary(CM.markMeetingHeld, Convene_Consultation_V1_MarkMeetingHeldRequest.with {
            $0.meetingID = consultation.id
        }, as: Convene_Consultation_V1_Meeting.self, options: f.options("President"))
        await assertRPCError(.permissionDenied, containing: "II.B.6") {
            try await self.f.client.unary(CM.prepareSummary, Convene_Consultation_V1_PrepareSummaryRequest.with {
                $0.meetingID = consultation.id; $0.text = "x"
            }, as: Convene_Consultation_V1_Summary.self, options: self.f.options("Troops"))
        }
        let prepared = try await f.client.unary(CM.prepareSummary, Convene_Consultation_V1_PrepareSummaryRequest.with {
            $0.meetingID = consultation.id; $0.text = "Contributors raised equipment gaps."
        }, as: Convene_Consultation_V1_Summary.self, options: f.options("Secretariat"))
        XCTAssertEqual(prepared.status, .prepared)
        await assertRPCError(.permissionDenied, containing: "only the Council President circulates") {
            try await self.f.client.unary(CM.circulateSummary, Convene_Consultation_V1_CirculateSummaryRequest.with {
                $0.meetingID = consultation.id
            }, as: Convene_Consultation_V1_Summary.self, options: self.f.options("Secretariat"))
        }
        // Council members do not get it before circulation; contributors never.
        await assertRPCError(.failedPrecondition, containing: "has not been circulated to the Council members yet (II.B.6)") {
            try await self.f.client.unary(CM.getSummary, Convene_Consultation_V1_GetSummaryRequest.with { $0.meetingID = consultation.id },
                                          as: Convene_Consultation_V1_Summary.self, options: self.f.options("Member"))
        }
        let circulated = try await f.client.unary(CM.circulateSummary, Convene_Consultation_V1_CirculateSummaryRequest.with {
            $0.meetingID = consultation.id
        }, as: Convene_Consultation_V1_Summary.self, options: f.options("President"))
        XCTAssertEqual(circulated.status, .circulated)
        let received = try await f.client.unary(CM.getSummary, Convene_Consultation_V1_GetSummaryRequest.with { $0.meetingID = consultation.id },
                                                as: Convene_Consultation_V1_Summary.self, options: f.options("Member"))
        XCTAssertEqual(received.text, "Contributors raised equipment gaps.")
        await assertRPCError(.permissionDenied, containing: "II.B.6") {
            try await self.f.client.unary(CM.getSummary, Convene_Consultation_V1_GetSummaryRequest.with { $0.meetingID = consultation.id },
                                          as: Convene_Consultation_V1_Summary.self, options: self.f.options("Troops"))
        }
        // Now the Council may meet.
        let council = try await f.convene(operation, form: .councilMeeting, stage: .unspecified, at: 1_800_100_000_000)
        XCTAssertEqual(council.form, .councilMeeting)
        XCTAssertEqual(invitation(council, "Troops")?.category, .troopPoliceContributor, "II.A with contributor participation")

        // A second consultation, and the President overrides the rule with a recorded reason.
        _ = try await f.convene(operation, stage: .rapidDeterioration, at: 1_800_200_000_000)
        let overridden = try await f.convene(operation, form: .councilConsultations, stage: .unspecified,
                                             at: 1_800_300_000_000, override: "Rapid deterioration: the Council meets at once")
        XCTAssertEqual(overridden.summaryOverrideReason, "Rapid deterioration: the Council meets at once")
        XCTAssertNil(invitation(overridden, "Troops"), "the Council's own consultations")
    }

    /// A UN agency sending staff of its own to an operation is not thereby a troop-contributing
    /// country (II.B.3(c); the preamble extends the annexes to countries contributing police and
    /// other personnel): it requests no meeting (II.A.1, II.B.2), reads no advice given to the
    /// contributors (I.B.9) and submits no national contingent's experience (I.B.4).
    func testAUNAgencySendingStaffIsNoTroopContributingCountry() async throws {
        let staff = try await f.client.unary(CM.recordContribution, Convene_Consultation_V1_RecordContributionRequest.with {
            $0.operationID = operation; $0.partyID = f.ids["Agency"]!; $0.kind = .otherCivilianPersonnel; $0.quantity = 12
        }, as: Convene_Consultation_V1_Contribution.self, options: f.options("Secretariat"))
        XCTAssertEqual(staff.kind, .otherCivilianPersonnel)
        await assertRPCError(.permissionDenied, containing: "II.B.3(c) or (d)") {
            try await self.f.client.unary(CM.requestMeeting, Convene_Consultation_V1_RequestMeetingRequest.with {
                $0.operationID = self.operation; $0.form = .consultationMeeting; $0.reason = "Our staff are at risk"
            }, as: Convene_Consultation_V1_MeetingRequest.self, options: self.f.options("Agency"))
        }
        _ = try await f.client.unary(BM.submitAdvice, Convene_Briefing_V1_SubmitAdviceRequest.with {
            $0.operationID = operation; $0.question = "How to protect civilian staff?"
            $0.options = [.with { $0.title = "Escorts"; $0.objectiveAnalysis = "One company frees the roads in 2 weeks" },
                          .with { $0.title = "Relocate"; $0.objectiveAnalysis = "Staff move to the capital; programmes pause" }]
        }, as: Convene_Briefing_V1_Advice.self, options: f.options("Secretariat"))
        await assertRPCError(.permissionDenied) {
            try await self.f.client.unary(BM.listAdvice, Convene_Briefing_V1_ListAdviceRequest.with { $0.operationID = self.operation },
                                          as: Convene_Briefing_V1_ListAdviceResponse.self, options: self.f.options("Agency"))
        }
        await assertRPCError(.permissionDenied, containing: "I.B.4") {
            _ = try await self.uploadExperience(as: "Agency", title: "Field office report", text: "Roads closed for a week.")
        }
        // A country sending other civilian personnel is one (the preamble): it requests meetings.
        _ = try await f.client.unary(CM.recordContribution, Convene_Consultation_V1_RecordContributionRequest.with {
            $0.operationID = operation; $0.partyID = f.ids["Bystander"]!; $0.kind = .otherCivilianPersonnel; $0.quantity = 30
        }, as: Convene_Consultation_V1_Contribution.self, options: f.options("Secretariat"))
        let request = try await f.client.unary(CM.requestMeeting, Convene_Consultation_V1_RequestMeetingRequest.with {
            $0.operationID = operation; $0.form = .consultationMeeting; $0.reason = "Our civilian staff are at risk"
        }, as: Convene_Consultation_V1_MeetingRequest.self, options: f.options("Bystander"))
        XCTAssertEqual(request.status, .pending)
    }

    func testRequestsForMeetings() async throws {
        let request = try await f.client.unary(CM.requestMeeting, Convene_Consultation_V1_RequestMeetingRequest.with {
            $0.operationID = operation; $0.form = .consultationMeeting
            $0.reason = "Attacks on our patrols"; $0.concerns = ["Force protection"]
        }, as: Convene_Consultation_V1_MeetingRequest.self, options: f.options("Troops"))
        XCTAssertEqual(request.status, .pending)
        await assertRPCError(.permissionDenied, containing: "II.A.1") {
            try await self.f.client.unary(CM.requestMeeting, Convene_Consultation_V1_RequestMeetingRequest.with {
                $0.operationID = self.operation; $0.form = .consultationMeeting; $0.reason = "We pay for it"
            }, as: Convene_Consultation_V1_MeetingRequest.self, options: self.f.options("Donor"))
        }
        // The President convenes it: the meeting records the request, the request its meeting.
        let meeting = try await f.convene(operation, stage: .unspecified, requestID: request.id)
        XCTAssertEqual(meeting.requestID, request.id)
        let requests = try await f.client.unary(CM.listMeetingRequests, Convene_Consultation_V1_ListMeetingRequestsRequest.with {
            $0.operationID = operation
        }, as: Convene_Consultation_V1_ListMeetingRequestsResponse.self, options: f.options("Troops"))
        XCTAssertEqual(requests.requests.first?.status, .convenedAsRequested)
        XCTAssertEqual(requests.requests.first?.meetingID, meeting.id)
        await assertRPCError(.failedPrecondition, containing: "no longer pending") {
            try await self.f.convene(self.operation, stage: .unspecified, requestID: request.id)
        }
        // Another request, declined with reasons.
        let second = try await f.client.unary(CM.requestMeeting, Convene_Consultation_V1_RequestMeetingRequest.with {
            $0.operationID = operation; $0.form = .councilMeeting; $0.reason = "Public meeting on the drawdown"
        }, as: Convene_Consultation_V1_MeetingRequest.self, options: f.options("Police"))
        await assertRPCError(.permissionDenied) {
            try await self.f.client.unary(CM.declineMeetingRequest, Convene_Consultation_V1_DeclineMeetingRequestRequest.with {
                $0.requestID = second.id; $0.reason = "no"
            }, as: Convene_Consultation_V1_MeetingRequest.self, options: self.f.options("Secretariat"))
        }
        let declined = try await f.client.unary(CM.declineMeetingRequest, Convene_Consultation_V1_DeclineMeetingRequestRequest.with {
            $0.requestID = second.id; $0.reason = "A consultation meeting is already scheduled for next week"
        }, as: Convene_Consultation_V1_MeetingRequest.self, options: f.options("President"))
        XCTAssertEqual(declined.status, .declined)
        XCTAssertEqual(declined.declineReason, "A consultation meeting is already scheduled for next week")
    }

    func testAccountForTheSecretaryGeneralsReport() async throws {
        let meeting = try await f.convene(operation)
        let concern = try await f.client.unary(CM.recordStatement, Convene_Consultation_V1_RecordStatementRequest.with {
            $0.meetingID = meeting.id; $0.text = "Medical evacuation takes too long"; $0.concern = true
        }, as: Convene_Consultation_V1_Statement.self, options: f.options("Police"))
        _ = try await f.client.unary(CM.recordStatement, Convene_Consultation_V1_RecordStatementRequest.with {
            $0.meetingID = meeting.id; $0.text = "We support renewal"
        }, as: Convene_Consultation_V1_Statement.self, options: f.options("Troops"))
        _ = try await f.client.unary(CM.respondToConcern, Convene_Consultation_V1_RespondToConcernRequest.with {
            $0.statementID = concern.id; $0.response = "A second helicopter is deployed"
        }, as: Convene_Consultation_V1_Statement.self, options: f.options("Secretariat"))
        let account = try await f.client.unary(CM.getConsultationAccount, Convene_Consultation_V1_GetConsultationAccountRequest.with {
            $0.operationID = operation
        }, as: Convene_Consultation_V1_ConsultationAccount.self, options: f.options("Secretariat"))
        XCTAssertEqual(account.meetings.count, 1)
        XCTAssertEqual(account.concernsRaised, 1)
        XCTAssertEqual(account.concernsAnswered, 1)
        XCTAssertEqual(account.meetings[0].concerns.first?.response, "A second helicopter is deployed")
        XCTAssertTrue(account.meetings[0].participantIds.contains(f.ids["Police"]!))
        await assertRPCError(.permissionDenied, containing: "I.B.2") {
            try await self.f.client.unary(CM.getConsultationAccount, Convene_Consultation_V1_GetConsultationAccountRequest.with {
                $0.operationID = self.operation
            }, as: Convene_Consultation_V1_ConsultationAccount.self, options: self.f.options("Troops"))
        }
    }

    func testWatchShowsEachPartyWhatItMaySee() async throws {
        let troops = try await f.client.serverStreaming(CM.watchOperation, Convene_Consultation_V1_WatchOperationRequest.with {
            $0.operationID = operation
        }, as: Convene_Consultation_V1_OperationEvent.self, options: f.options("Troops"))
        let donor = try await f.client.serverStreaming(CM.watchOperation, Convene_Consultation_V1_WatchOperationRequest.with {
            $0.operationID = operation
        }, as: Convene_Consultation_V1_OperationEvent.self, options: f.options("Donor"))
        // A party with no part in the operation does not watch it.
        await assertRPCError(.permissionDenied, containing: "the events of operation \(operation)") {
            let agency = try await self.f.client.serverStreaming(CM.watchOperation, Convene_Consultation_V1_WatchOperationRequest.with {
                $0.operationID = self.operation
            }, as: Convene_Consultation_V1_OperationEvent.self, options: self.f.options("Agency"))
            for try await _ in agency.responses {}
        }
        let meeting = try await f.convene(operation)
        _ = try await f.client.unary(CM.updateMandate, Convene_Consultation_V1_UpdateMandateRequest.with {
            $0.operationID = operation; $0.useOfForce = "All necessary means to protect civilians"
        }, as: Convene_Consultation_V1_Operation.self, options: f.options("President"))

        func kinds(_ call: TypedCall<Convene_Consultation_V1_WatchOperationRequest, Convene_Consultation_V1_OperationEvent>,
                   until last: String) async throws -> [String] {
            var seen: [String] = []
            for try await event in call.responses {
                seen.append(event.kind + (event.subjectID == meeting.id ? ":" + meeting.id : ""))
                if event.kind == last { break }
            }
            call.cancel()
            return seen
        }
        let troopsSaw = try await kinds(troops, until: "mandate.updated")
        XCTAssertTrue(troopsSaw.contains("meeting.convened:\(meeting.id)"), "\(troopsSaw)")
        XCTAssertEqual(troopsSaw.first, "operation.created", "backlog first")
        let donorSaw = try await kinds(donor, until: "mandate.updated")
        XCTAssertFalse(donorSaw.contains { $0.hasPrefix("meeting.convened") }, "not invited: \(donorSaw)")
    }

    /// Two writers each publish after their own commit, so a later event can be published
    /// first. A watcher must still see both, in sequence order.
    func testWatchLosesNoEventPublishedOutOfOrder() async throws {
        let watch = try await f.client.serverStreaming(CM.watchOperation, Convene_Consultation_V1_WatchOperationRequest.with {
            $0.operationID = operation
        }, as: Convene_Consultation_V1_OperationEvent.self, options: f.options("Troops"))
        var responses = watch.responses.makeAsyncIterator()
        let created = try await responses.next()
        XCTAssertEqual(created?.kind, "operation.created", "the backlog, which also shows the watch is set up")

        let operationID = try XCTUnwrap(Int64(operation.dropFirst("op-".count)))
        let (_, second) = try await f.server.store.write { db in
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            return (try db.append(EventRecord(operationID: operationID, kind: "test.first", subjectID: "", description: "",
                                              meetingID: nil, time: now)),
                    try db.append(EventRecord(operationID: operationID, kind: "test.second", subjectID: "", description: "",
                                              meetingID: nil, time: now)))
        }
        // The second is published; the first's publication has not happened (yet).
        f.server.events.publish([second])
        var kinds: [String] = []
        for _ in 0..<100 {  // the rest of the backlog, then the two
            guard let event = try await responses.next() else { break }
            kinds.append(event.kind)
            if event.kind == "test.second" { break }
        }
        XCTAssertEqual(kinds.filter { $0.hasPrefix("test.") }, ["test.first", "test.second"], "\(kinds)")
        watch.cancel()
    }

    func testNothingIsLostAcrossARestart() async throws {
        let meeting = try await f.convene(operation, extra: ["Donor"])
        _ = try await f.client.unary(CM.recordStatement, Convene_Consultation_V1_RecordStatementRequest.with {
            $0.meetingID = meeting.id; $0.text = "On the record"
        }, as: Convene_Consultation_V1_Statement.self, options: f.options("Troops"))
        let adminToken = try f.adminToken
        await f.server.shutDown()
        try await f.startServer(port: f.port)
        XCTAssertEqual(try f.adminToken, adminToken, "the administrator credential is created once")
        let after = try await f.client.unary(CM.getMeeting, Convene_Consultation_V1_GetMeetingRequest.with { $0.meetingID = meeting.id },
                                             as: Convene_Consultation_V1_Meeting.self, options: f.options("Troops"))
        XCTAssertEqual(after.invitations.count, meeting.invitations.count)
        XCTAssertEqual(after.statements.map(\.text), ["On the record"])
        XCTAssertEqual(after.informalPaper, meeting.informalPaper)
        if let sqlite = f.server.store as? SQLiteStore {
            XCTAssertEqual(try sqlite.integrityCheck(), "ok")
            XCTAssertEqual(try sqlite.appliedMigrations().count, 11, "v1 to v5 (ConveneStoreTests names them)")
        }
    }
}
