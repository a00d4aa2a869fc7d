import ConveneClient
import ConveneProtos
import ConveneRPC
import ConveneTransport
import Foundation
import SwiftProtobuf

/// The story: an operation's history, recorded after the fact, then what happens on it today,
/// each rule of the resolution at work.
extension DemoPlay {
    typealias CM = ConsultationMethods

    func run() async throws -> [String: Any] {
        say("== Parties (II.B.1)")
        try await registerCast()
        let earlier = try await operation("UNOBV-\(tag)", host: nil)
        _ = try await call(LessonsMethods.recordLesson, Convene_Lessons_V1_RecordLessonRequest.with {
            $0.operationID = earlier; $0.stage = .missionPlanning
            $0.finding = "Troops deployed before their logistics arrived and waited months for equipment"
            $0.recommendation = "Deploy logistics and engineering units ahead of the infantry"
            $0.topics = ["logistics", "deployment"]
        }, as: Convene_Lessons_V1_Lesson.self, by: "secretariat")
        count("lessons")

        let op = try await operation("UNMIVE-\(tag)", host: "veloria")
        for (party, kind, quantity) in [("tamaris", Convene_Consultation_V1_ContributionKind.troops, Int64(850)),
                                        ("oskar", .troops, 600), ("oskar", .militaryObservers, 40),
                                        ("bellmoor", .civilianPolice, 140), ("wendt", .trustFund, 5_000_000),
                                        ("wendt", .logistics, 12), ("veloria", .facilities, 3)] {
            _ = try await call(CM.recordContribution, Convene_Consultation_V1_RecordContributionRequest.with {
                $0.operationID = op; $0.partyID = ids[party]!; $0.kind = kind; $0.quantity = quantity
            }, as: Convene_Consultation_V1_Contribution.self, by: "secretariat")
            count("contributions")
        }
        _ = try await call(CM.identifyPotentialContributor, Convene_Consultation_V1_IdentifyPotentialContributorRequest.with {
            $0.operationID = op; $0.partyID = ids["sarelia"]!
        }, as: Convene_Consultation_V1_Operation.self, by: "secretariat")
        try await whoMaySeeWhat(op)
        try await history(op)
        try await today(op)
        try await mechanisms(op)

        let account = try await call(CM.getConsultationAccount, Convene_Consultation_V1_GetConsultationAccountRequest.with {
            $0.operationID = op
        }, as: Convene_Consultation_V1_ConsultationAccount.self, by: "secretariat")
        say("The account of consultations (I.B.2): \(account.meetings.count) meetings, \(account.meetingsRecordedAfterTheFact) recorded after the fact, \(account.concernsRaised) concerns raised, \(account.concernsAnswered) answered.")
        return [
            "operation": op, "parties": ids.count, "meetings": counts["meetings", default: 0],
            "statements": counts["statements", default: 0], "summaries_circulated": counts["circulated", default: 0],
            "reports": counts["reports", default: 0], "fact_sheets": counts["fact_sheets", default: 0],
            "briefings": counts["briefings", default: 0], "attachments": counts["attachments", default: 0],
            "advice": counts["advice", default: 0], "lessons": counts["lessons", default: 0],
            "lessons_attached_to_planning": counts["lessons_attached", default: 0],
            "requests": counts["requests", default: 0], "contributions": counts["contributions", default: 0],
            "concerns_raised": Int(account.concernsRaised), "concerns_answered": Int(account.concernsAnswered),
            "recorded_after_the_fact": Int(account.meetingsRecordedAfterTheFact),
            "request_concerns_as_topics": counts["request_topics", default: 0],
            "flagged": counts["flagged", default: 0], "streams_ended_by_revocation": counts["revoked_streams", default: 0],
            "friends_proposals": counts["friends_proposals", default: 0],
            "assessed_meetings": counts["assessed_meetings", default: 0],
            "refusals": refusals,
        ]
    }

    /// The administrator administers; a party with no part in the operation sees that it exists.
    func whoMaySeeWhat(_ op: String) async throws {
        say("== Who may see what")
        try await refused(.permissionDenied, CM.getOperation, Convene_Consultation_V1_GetOperationRequest.with { $0.operationID = op },
                          as: Convene_Consultation_V1_Operation.self, by: "admin")
        let seen = try await call(CM.getOperation, Convene_Consultation_V1_GetOperationRequest.with { $0.operationID = op },
                                  as: Convene_Consultation_V1_Operation.self, by: "ostland")
        say("  Ostland, with no part in \(op), sees its existence only: '\(seen.name)', limited: \(seen.limited), mandate '\(seen.mandate)'.")
        try await refused(.permissionDenied, CM.listContributions, Convene_Consultation_V1_ListContributionsRequest.with {
            $0.operationID = op
        }, as: Convene_Consultation_V1_ListContributionsResponse.self, by: "ostland")
        let proposal = try await call(CM.proposeInvitations, Convene_Consultation_V1_ProposeInvitationsRequest.with {
            $0.operationID = op; $0.form = .consultationMeeting
        }, as: Convene_Consultation_V1_ProposeInvitationsResponse.self, by: "president")
        for invitation in proposal.optional where [ids["veloria"], ids["coastal"], ids["wendt"]].contains(invitation.partyID) {
            say("  II.B.3: \(invitation.partyName): \(invitation.reason).")
        }
    }

    /// The operation's first months, held before its consultations were kept here: recorded
    /// after the fact, each with the reason.
    func history(_ op: String) async throws {
        say("== The history, recorded after the fact")
        let start = now - 120 * day
        let past = "Held before the operation's consultations were kept in Convene; recorded from the Secretariat's minutes"
        // 1. Planning (II.B.2(a)): the paper's logistics item pulls in the earlier lesson.
        try await refused(.permissionDenied, CM.conveneMeeting, meetingRequest(op, stage: .missionPlanning, at: start, past: past),
                          as: Convene_Consultation_V1_Meeting.self, by: "estmark")
        var unpapered = meetingRequest(op, stage: .missionPlanning, at: start, past: past)
        unpapered.clearInformalPaper()
        try await refused(.failedPrecondition, CM.conveneMeeting, unpapered, as: Convene_Consultation_V1_Meeting.self, by: "president")
        try await refused(.failedPrecondition, CM.conveneMeeting, meetingRequest(op, stage: .missionPlanning, at: start),
                          as: Convene_Consultation_V1_Meeting.self, by: "president")
        let planning = try await convene(op, stage: .missionPlanning, at: start, extra: ["refugees", "veloria", "coastal"],
                                         issues: ["Concept of operations", "Logistics and deployment timelines"], past: past)
        count("lessons_attached", planning.informalPaper.backgroundDocuments.filter { !$0.lessonID.isEmpty }.count)
        try await materials(planning.id, briefer: "Head of the planning team")
        try await statement(planning.id, by: "tamaris", "Our battalion needs the rules of engagement before deployment.", concern: true)
        try await statement(planning.id, by: "oskar", "Oskar will provide military observers from the first day.")
        try await refused(.permissionDenied, CM.recordStatement, Convene_Consultation_V1_RecordStatementRequest.with {
            $0.meetingID = planning.id; $0.text = "Veloria welcomes the mission."
        }, as: Convene_Consultation_V1_Statement.self, by: "veloria")
        try await holdAndSummarize(planning.id, circulate: true)
        _ = try await convene(op, form: .councilConsultations, stage: .unspecified, at: start + day, past: past)

        // 2. Mandate change with a new authorization to use force (II.B.2(b)).
        _ = try await call(CM.updateMandate, Convene_Consultation_V1_UpdateMandateRequest.with {
            $0.operationID = op; $0.phase = .deployed
            $0.useOfForce = "All necessary means to protect civilians under imminent threat"
        }, as: Convene_Consultation_V1_Operation.self, by: "president")
        let change = try await convene(op, stage: .mandateChange, at: start + 10 * day, past: past)
        try await statement(change.id, by: "tamaris", "Tamaris asks for clear command arrangements for the new tasks.", concern: true)
        try await refused(.failedPrecondition, CM.conveneMeeting,
                          meetingRequest(op, form: .councilMeeting, stage: .unspecified, at: start + 12 * day, past: past),
                          as: Convene_Consultation_V1_Meeting.self, by: "president")
        try await holdAndSummarize(change.id, circulate: true)
        _ = try await convene(op, form: .councilMeeting, stage: .unspecified, at: start + 12 * day, past: past)

        // 3. Before a Council mission (II.B.2(g)), and an assessment of the first rotation (I.B.3).
        let mission = try await convene(op, stage: .councilMission, at: start + 40 * day, past: past)
        try await holdAndSummarize(mission.id, circulate: true)
        let experience = try await submitExperience(op, by: "oskar")
        let evaluation = try await call(LessonsMethods.conveneEvaluationMeeting, Convene_Lessons_V1_ConveneEvaluationMeetingRequest.with {
            $0.operationID = op; $0.stage = "after the first rotation"; $0.scheduledTime = timestamp(start + 70 * day)
            $0.pastMeetingReason = past
        }, as: Convene_Lessons_V1_EvaluationMeeting.self, by: "secretariat")
        count("meetings")
        for (finding, source) in [("Medical evacuation times exceeded the one-hour standard", evaluation.meetingID),
                                  ("Observer teams without vehicles could not verify violations", experience)] {
            _ = try await call(LessonsMethods.recordLesson, Convene_Lessons_V1_RecordLessonRequest.with {
                $0.operationID = op; $0.stage = .deployment; $0.finding = finding
                $0.recommendation = "Plan for it from the concept of operations"; $0.topics = ["medical", "mobility"]
                $0.sourceID = source
            }, as: Convene_Lessons_V1_Lesson.self, by: "secretariat")
            count("lessons")
        }
    }

    /// Today: a crisis at a contributor's request, a report in time and one late, the Council's own
    /// consultations out of order, a meeting that cannot be held early, a revoked credential.
    func today(_ op: String) async throws {
        say("== Today")
        // Rapid deterioration (II.B.2(e)) at a contributor's request (II.A.1): its concerns become topics (II.B.4(d)).
        try await refused(.permissionDenied, CM.requestMeeting, Convene_Consultation_V1_RequestMeetingRequest.with {
            $0.operationID = op; $0.form = .consultationMeeting; $0.reason = "Our funds are at risk"
        }, as: Convene_Consultation_V1_MeetingRequest.self, by: "wendt")
        let request = try await call(CM.requestMeeting, Convene_Consultation_V1_RequestMeetingRequest.with {
            $0.operationID = op; $0.form = .consultationMeeting
            $0.reason = "Two of our patrols were attacked near the northern border"
            $0.concerns = ["Force protection", "Medical evacuation"]
        }, as: Convene_Consultation_V1_MeetingRequest.self, by: "tamaris")
        count("requests")
        let report = try await publishReport(op)
        let crisis = try await convene(op, stage: .unspecified, at: now + 72 * hour, requestID: request.id, reportID: report)
        let topics = crisis.topics.filter { $0.requestID == request.id }
        count("request_topics", topics.count)
        say("  The meeting at \(request.id)'s request has its concerns as topics (II.B.4(d)): \(topics.map(\.description_p).joined(separator: ", ")).")
        try await distribute(report, to: crisis.id, late: nil)
        try await statement(crisis.id, by: "tamaris", "Medical evacuation took nine hours.", concern: true)
        try await refused(.failedPrecondition, CM.markMeetingHeld, Convene_Consultation_V1_MarkMeetingHeldRequest.with {
            $0.meetingID = crisis.id
        }, as: Convene_Consultation_V1_Meeting.self, by: "president")
        // II.B.5(b): the Council members' own consultations on the report come after the contributors' meeting.
        try await refused(.failedPrecondition, CM.conveneMeeting,
                          meetingRequest(op, form: .councilConsultations, stage: .unspecified, at: now + 24 * hour, report: report),
                          as: Convene_Consultation_V1_Meeting.self, by: "president")
        let early = try await convene(op, form: .councilConsultations, stage: .unspecified, at: now + 24 * hour, reportID: report,
                                      late: "The programme of work fixes the Council's consultations for tomorrow")
        count("flagged", early.flags.count)
        say("  Convened anyway, flagged: \(early.flags.joined(separator: "; ")).")

        // I.B.9: a range of distinct options, each with its analysis.
        let mobile = Convene_Briefing_V1_AdviceOption.with {
            $0.title = "Mobile company operating bases"; $0.objectiveAnalysis = "Covers 60% of displaced sites; needs 4 more helicopters"
        }
        try await refused(.failedPrecondition, BriefingMethods.submitAdvice, Convene_Briefing_V1_SubmitAdviceRequest.with {
            $0.operationID = op; $0.question = "How should the force posture change?"; $0.options = [mobile, mobile]
        }, as: Convene_Briefing_V1_Advice.self, by: "secretariat")
        _ = try await call(BriefingMethods.submitAdvice, Convene_Briefing_V1_SubmitAdviceRequest.with {
            $0.operationID = op; $0.question = "How should the force posture change?"
            $0.options = [mobile, .with {
                $0.title = "Static protection of the three largest sites"; $0.objectiveAnalysis = "Covers 35% of displaced persons with current assets"
            }]
        }, as: Convene_Briefing_V1_Advice.self, by: "secretariat")
        count("advice")

        // Renewal (II.B.2(c)) in six hours: the report cannot reach the invitees 48 h before.
        let renewal = try await convene(op, stage: .mandateRenewal, at: now + 6 * hour)
        try await distribute(try await publishReport(op), to: renewal.id,
                             late: "The report was held for the casualty figures of the last week")
        try await revocationEndsAStream(op)
    }

    /// A watcher whose credential is revoked is told so at once (UNAUTHENTICATED), not at its next call.
    func revocationEndsAStream(_ op: String) async throws {
        let second = try await call(AdministrationMethods.issueCredential, Convene_Admin_V1_IssueCredentialRequest.with {
            $0.partyID = ids["tamaris"]!; $0.label = "situation room screen"
        }, as: Convene_Admin_V1_IssueCredentialResponse.self, by: "admin")
        let watch = try await client.serverStreaming(CM.watchOperation, Convene_Consultation_V1_WatchOperationRequest.with {
            $0.operationID = op
        }, as: Convene_Consultation_V1_OperationEvent.self, options: .bearer(second.token))
        var events = watch.responses.makeAsyncIterator()
        _ = try await events.next()  // the backlog: the watch is open
        _ = try await call(AdministrationMethods.revokeCredential, Convene_Admin_V1_RevokeCredentialRequest.with {
            $0.credentialID = second.credentialID
        }, as: Convene_Admin_V1_RevokeCredentialResponse.self, by: "admin")
        do {
            for _ in 0..<100_000 { guard try await events.next() != nil else { break } }
            throw RPCError(.internal, "demo: the watch outlived its revoked credential")
        } catch let error as RPCError where error.code == .unauthenticated {
            count("revoked_streams")
            say("  A watch opened with credential \(second.credentialID) ends at its revocation: \(error.message).")
        }
    }
}
