import ArgumentParser
import ConveneClient
import ConveneProtos
import ConveneRPC
import ConveneTransport
import Foundation
import SwiftProtobuf

/// Plays the life of a fictional operation as each party would, through the public API.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Register the parties of a fictional operation and play its life, refusals included; prints one JSON line.")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        // The administrator credential: --token-file DATA_DIR/admin.token (or CONVENE_TOKEN).
        guard let admin = try global.token() else {
            throw ValidationError("demo needs the administrator credential: --token-file DATA_DIR/admin.token")
        }
        let client = try global.client()
        defer { Task { await client.close() } }
        do {
            let play = DemoPlay(client: client, adminToken: admin, tag: String(UUID().uuidString.prefix(4)).lowercased())
            let summary = try await play.run()
            let data = try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } catch let error as ExitCode {
            throw error
        } catch {
            throw fail(error)
        }
    }
}

/// The script of the demonstration. Every step is a call a party makes; every refusal is
/// one the resolution's rules require, and is checked to come back with its status code.
final class DemoPlay: @unchecked Sendable {
    let client: ConveneClient
    let adminToken: String
    let tag: String
    var tokens: [String: String] = [:]
    var ids: [String: String] = [:]
    var counts: [String: Int] = [:]
    var refusals: [String: Int] = [:]
    let day: Int64 = 86_400_000
    let start = Int64(Date().timeIntervalSince1970 * 1000) + 10 * 86_400_000

    init(client: ConveneClient, adminToken: String, tag: String) {
        self.client = client
        self.adminToken = adminToken
        self.tag = tag
    }

    func count(_ key: String, _ n: Int = 1) { counts[key, default: 0] += n }

    func call<Req: SwiftProtobuf.Message, Res: SwiftProtobuf.Message>(
        _ method: MethodDescriptor, _ request: Req, as: Res.Type = Res.self, by party: String
    ) async throws -> Res {
        try await client.unary(method, request, as: Res.self,
                               options: .bearer(party == "admin" ? adminToken : tokens[party]!, timeout: .seconds(30)))
    }

    /// A call the rules must refuse with `code`; anything else stops the demo.
    func refused<Req: SwiftProtobuf.Message, Res: SwiftProtobuf.Message>(
        _ code: StatusCode, _ method: MethodDescriptor, _ request: Req, as: Res.Type, by party: String
    ) async throws {
        do {
            _ = try await call(method, request, as: Res.self, by: party)
        } catch let error as RPCError where error.code == code {
            refusals[code.name, default: 0] += 1
            return
        }
        throw RPCError(.internal, "demo: \(method.description) by \(party) should have been refused with \(code.name)")
    }

    static let cast: [(String, String, Convene_Parties_V1_PartyKind, [Convene_Parties_V1_Role])] = [
        ("president", "Kingdom of Norland", .memberState, [.councilPresident]),
        ("estmark", "Republic of Estmark", .memberState, [.councilMember]),
        ("calvania", "Federation of Calvania", .memberState, [.councilMember]),
        ("secretariat", "United Nations Secretariat", .secretariat, [.secretariatStaff]),
        ("tamaris", "Republic of Tamaris", .memberState, []),
        ("oskar", "Union of Oskar", .memberState, []),
        ("bellmoor", "Commonwealth of Bellmoor", .memberState, []),
        ("sarelia", "Kingdom of Sarelia", .memberState, []),
        ("refugees", "Office for Refugees", .unAgency, []),
        ("relief", "International Relief Committee", .otherBody, []),
        ("wendt", "Republic of Wendt", .memberState, []),
        ("veloria", "Republic of Veloria", .memberState, []),
        ("coastal", "Coastal States Union", .regionalOrganization, []),
    ]

    func run() async throws -> [String: Any] {
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
                                        ("wendt", .logistics, 12)] {
            _ = try await call(ConsultationMethods.recordContribution, Convene_Consultation_V1_RecordContributionRequest.with {
                $0.operationID = op; $0.partyID = ids[party]!; $0.kind = kind; $0.quantity = quantity
            }, as: Convene_Consultation_V1_Contribution.self, by: "secretariat")
            count("contributions")
        }
        _ = try await call(ConsultationMethods.identifyPotentialContributor, Convene_Consultation_V1_IdentifyPotentialContributorRequest.with {
            $0.operationID = op; $0.partyID = ids["sarelia"]!
        }, as: Convene_Consultation_V1_Operation.self, by: "secretariat")

        // 1. Planning (II.B.2(a)): the paper's logistics item pulls in the earlier lesson.
        try await refused(.permissionDenied, ConsultationMethods.conveneMeeting,
                          meetingRequest(op, stage: .missionPlanning, at: start), as: Convene_Consultation_V1_Meeting.self, by: "estmark")
        var unpapered = meetingRequest(op, stage: .missionPlanning, at: start)
        unpapered.clearInformalPaper()
        try await refused(.failedPrecondition, ConsultationMethods.conveneMeeting, unpapered,
                          as: Convene_Consultation_V1_Meeting.self, by: "president")
        let planning = try await convene(op, stage: .missionPlanning, at: start, extra: ["refugees", "veloria", "coastal"],
                                         issues: ["Concept of operations", "Logistics and deployment timelines"])
        count("lessons_attached", planning.informalPaper.backgroundDocuments.filter { !$0.lessonID.isEmpty }.count)
        try await report(op, meeting: planning.id, late: nil)
        try await materials(planning.id, briefer: "Head of the planning team", field: false)
        try await statement(planning.id, by: "tamaris", "Our battalion needs the rules of engagement before deployment.", concern: true)
        try await statement(planning.id, by: "oskar", "Oskar will provide military observers from the first day.")
        try await refused(.permissionDenied, ConsultationMethods.recordStatement, Convene_Consultation_V1_RecordStatementRequest.with {
            $0.meetingID = planning.id; $0.text = "Veloria welcomes the mission."
        }, as: Convene_Consultation_V1_Statement.self, by: "veloria")
        try await holdAndSummarize(planning.id, circulate: true)
        _ = try await convene(op, form: .councilConsultations, stage: .unspecified, at: start + day)

        // 2. Mandate change with a new authorization to use force (II.B.2(b)).
        _ = try await call(ConsultationMethods.updateMandate, Convene_Consultation_V1_UpdateMandateRequest.with {
            $0.operationID = op; $0.phase = .deployed
            $0.useOfForce = "All necessary means to protect civilians under imminent threat"
        }, as: Convene_Consultation_V1_Operation.self, by: "president")
        let change = try await convene(op, stage: .mandateChange, at: start + 10 * day)
        _ = try await call(BriefingMethods.submitAdvice, Convene_Briefing_V1_SubmitAdviceRequest.with {
            $0.operationID = op; $0.question = "How should the force posture change under the new authorization?"
            $0.options = [
                .with { $0.title = "Mobile company operating bases"; $0.objectiveAnalysis = "Covers 60% of displaced sites; needs 4 more helicopters" },
                .with { $0.title = "Static protection of the three largest sites"; $0.objectiveAnalysis = "Covers 35% of displaced persons with current assets" },
            ]
        }, as: Convene_Briefing_V1_Advice.self, by: "secretariat")
        count("advice")
        try await statement(change.id, by: "tamaris", "Tamaris asks for clear command arrangements for the new tasks.", concern: true)
        try await refused(.failedPrecondition, ConsultationMethods.conveneMeeting,
                          meetingRequest(op, form: .councilMeeting, stage: .unspecified, at: start + 12 * day),
                          as: Convene_Consultation_V1_Meeting.self, by: "president")
        try await holdAndSummarize(change.id, circulate: true)
        _ = try await convene(op, form: .councilMeeting, stage: .unspecified, at: start + 12 * day)

        // 3. Rapid deterioration (II.B.2(e)) at a contributor's request (II.A.1).
        try await refused(.permissionDenied, ConsultationMethods.requestMeeting, Convene_Consultation_V1_RequestMeetingRequest.with {
            $0.operationID = op; $0.form = .consultationMeeting; $0.reason = "Our funds are at risk"
        }, as: Convene_Consultation_V1_MeetingRequest.self, by: "wendt")
        let request = try await call(ConsultationMethods.requestMeeting, Convene_Consultation_V1_RequestMeetingRequest.with {
            $0.operationID = op; $0.form = .consultationMeeting
            $0.reason = "Two of our patrols were attacked near the northern border"
            $0.concerns = ["Force protection", "Medical evacuation"]
        }, as: Convene_Consultation_V1_MeetingRequest.self, by: "tamaris")
        count("requests")
        let crisis = try await convene(op, stage: .unspecified, at: start + 20 * day, requestID: request.id)
        try await statement(crisis.id, by: "tamaris", "Medical evacuation took nine hours.", concern: true)
        try await holdAndSummarize(crisis.id, circulate: false)
        _ = try await convene(op, form: .councilConsultations, stage: .unspecified, at: start + 20 * day + 3_600_000,
                              override: "Rapid deterioration: the Council consults at once; the summary follows")
        try await circulate(crisis.id)

        // 4. Renewal (II.B.2(c)), with a report that arrives late and says why.
        let renewal = try await convene(op, stage: .mandateRenewal, at: Int64(Date().timeIntervalSince1970 * 1000) + 6 * 3_600_000)
        try await report(op, meeting: renewal.id, late: "The report was held for the casualty figures of the last week")
        try await holdAndSummarize(renewal.id, circulate: true)

        // 5. Before a Council mission (II.B.2(g)).
        let mission = try await convene(op, stage: .councilMission, at: start + 40 * day)
        try await holdAndSummarize(mission.id, circulate: true)

        // 6. Drawdown (II.B.2(f)), experience after withdrawal (I.B.4), evaluation (I.B.3).
        _ = try await call(ConsultationMethods.updateMandate, Convene_Consultation_V1_UpdateMandateRequest.with {
            $0.operationID = op; $0.phase = .drawdown; $0.mandate = "Transition to a peacebuilding office within 12 months"
        }, as: Convene_Consultation_V1_Operation.self, by: "president")
        let drawdown = try await convene(op, stage: .termination, at: start + 60 * day)
        try await holdAndSummarize(drawdown.id, circulate: true)
        let experience = try await submitExperience(op, by: "oskar")
        let evaluation = try await call(LessonsMethods.conveneEvaluationMeeting, Convene_Lessons_V1_ConveneEvaluationMeetingRequest.with {
            $0.operationID = op; $0.stage = "after the drawdown"; $0.scheduledTime = .init(seconds: (start + 70 * day) / 1000)
        }, as: Convene_Lessons_V1_EvaluationMeeting.self, by: "secretariat")
        count("meetings")
        for (finding, source) in [("Medical evacuation times exceeded the one-hour standard", evaluation.meetingID),
                                  ("Observer teams without vehicles could not verify violations", experience)] {
            _ = try await call(LessonsMethods.recordLesson, Convene_Lessons_V1_RecordLessonRequest.with {
                $0.operationID = op; $0.stage = .termination; $0.finding = finding
                $0.recommendation = "Plan for it from the concept of operations"; $0.topics = ["medical", "mobility"]
                $0.sourceID = source
            }, as: Convene_Lessons_V1_Lesson.self, by: "secretariat")
            count("lessons")
        }

        let account = try await call(ConsultationMethods.getConsultationAccount, Convene_Consultation_V1_GetConsultationAccountRequest.with {
            $0.operationID = op
        }, as: Convene_Consultation_V1_ConsultationAccount.self, by: "secretariat")
        return [
            "operation": op, "parties": ids.count, "meetings": counts["meetings", default: 0],
            "statements": counts["statements", default: 0], "summaries_circulated": counts["circulated", default: 0],
            "reports": counts["reports", default: 0], "fact_sheets": counts["fact_sheets", default: 0],
            "briefings": counts["briefings", default: 0], "attachments": counts["attachments", default: 0],
            "advice": counts["advice", default: 0], "lessons": counts["lessons", default: 0],
            "lessons_attached_to_planning": counts["lessons_attached", default: 0],
            "requests": counts["requests", default: 0], "contributions": counts["contributions", default: 0],
            "concerns_raised": Int(account.concernsRaised), "concerns_answered": Int(account.concernsAnswered),
            "refusals": refusals,
        ]
    }

    func registerCast() async throws {
        for (key, name, kind, roles) in Self.cast {
            let party = try await call(AdministrationMethods.registerParty, Convene_Admin_V1_RegisterPartyRequest.with {
                $0.name = "\(name) [demo \(tag)]"; $0.kind = kind; $0.roles = key == "president" ? [] : roles
            }, as: Convene_Parties_V1_Party.self, by: "admin")
            ids[key] = party.id
            tokens[key] = try await call(AdministrationMethods.issueCredential, Convene_Admin_V1_IssueCredentialRequest.with {
                $0.partyID = party.id; $0.label = "demo"
            }, as: Convene_Admin_V1_IssueCredentialResponse.self, by: "admin").token
        }
        // The presidency passes to this demo's President (one President at a time, II.B.1).
        var everyone: [Convene_Parties_V1_Party] = []
        var pageToken = ""
        for _ in 0..<10_000 {  // every page, however many demos ran before
            let page = try await call(AdministrationMethods.listParties, Convene_Admin_V1_ListPartiesRequest.with {
                $0.pageSize = 100; $0.pageToken = pageToken
            }, as: Convene_Admin_V1_ListPartiesResponse.self, by: "admin")
            everyone += page.parties
            pageToken = page.nextPageToken
            if pageToken.isEmpty { break }
        }
        for holder in everyone where holder.roles.contains(.councilPresident) {
            _ = try await call(AdministrationMethods.setRoles, Convene_Admin_V1_SetRolesRequest.with {
                $0.partyID = holder.id; $0.roles = holder.roles.filter { $0 != .councilPresident } + [.councilMember]
            }, as: Convene_Parties_V1_Party.self, by: "admin")
        }
        _ = try await call(AdministrationMethods.setRoles, Convene_Admin_V1_SetRolesRequest.with {
            $0.partyID = ids["president"]!; $0.roles = [.councilPresident]
        }, as: Convene_Parties_V1_Party.self, by: "admin")
    }

    func operation(_ name: String, host: String?) async throws -> String {
        try await call(ConsultationMethods.createOperation, Convene_Consultation_V1_CreateOperationRequest.with {
            $0.name = name; $0.phase = .planning; $0.mandate = "Support the ceasefire and protect civilians"
            $0.useOfForce = "Self-defence"; if let host { $0.hostCountryID = ids[host]! }
        }, as: Convene_Consultation_V1_Operation.self, by: "secretariat").id
    }

    func meetingRequest(_ op: String, form: Convene_Consultation_V1_MeetingForm = .consultationMeeting,
                        stage: Convene_Consultation_V1_Stage, at millis: Int64, extra: [String] = [],
                        issues: [String] = ["Situation on the ground"], requestID: String = "",
                        override: String = "") -> Convene_Consultation_V1_ConveneMeetingRequest {
        .with {
            $0.operationID = op; $0.form = form; $0.stage = stage; $0.requestID = requestID
            $0.scheduledTime = .init(seconds: millis / 1000)
            $0.additionalInviteeIds = extra.map { ids[$0]! }
            $0.informalPaper = .with { $0.agenda = "Consultation on UNMIVE"; $0.issues = issues }
            $0.summaryOverrideReason = override
        }
    }

    func convene(_ op: String, form: Convene_Consultation_V1_MeetingForm = .consultationMeeting,
                 stage: Convene_Consultation_V1_Stage, at millis: Int64, extra: [String] = [],
                 issues: [String] = ["Situation on the ground"], requestID: String = "",
                 override: String = "") async throws -> Convene_Consultation_V1_Meeting {
        count("meetings")
        return try await call(ConsultationMethods.conveneMeeting,
                              meetingRequest(op, form: form, stage: stage, at: millis, extra: extra, issues: issues,
                                             requestID: requestID, override: override),
                              as: Convene_Consultation_V1_Meeting.self, by: "president")
    }

    func statement(_ meeting: String, by party: String, _ text: String, concern: Bool = false) async throws {
        let statement = try await call(ConsultationMethods.recordStatement, Convene_Consultation_V1_RecordStatementRequest.with {
            $0.meetingID = meeting; $0.text = text; $0.concern = concern
        }, as: Convene_Consultation_V1_Statement.self, by: party)
        count("statements")
        if concern {
            _ = try await call(ConsultationMethods.respondToConcern, Convene_Consultation_V1_RespondToConcernRequest.with {
                $0.statementID = statement.id; $0.response = "The Secretariat will report on this at the next meeting."
            }, as: Convene_Consultation_V1_Statement.self, by: "secretariat")
        }
    }

    func materials(_ meeting: String, briefer: String, field: Bool) async throws {
        _ = try await call(BriefingMethods.issueFactSheet, Convene_Briefing_V1_IssueFactSheetRequest.with {
            $0.meetingID = meeting; $0.title = "UNMIVE at a glance"; $0.content = "Authorized strength 1,630; budget pending."
        }, as: Convene_Briefing_V1_FactSheet.self, by: "secretariat")
        count("fact_sheets")
        let upload = try await client.streaming(BriefingMethods.uploadAttachment, requestType: Convene_Briefing_V1_AttachmentChunk.self,
                                                as: Convene_Briefing_V1_Attachment.self, options: .bearer(tokens["secretariat"]!))
        try await upload.send(.with {
            $0.header = .with { $0.meetingID = meeting; $0.fileName = "deployment-map.svg"; $0.contentType = "image/svg+xml" }
            $0.data = Data("<svg xmlns='http://www.w3.org/2000/svg'><circle r='40'/></svg>".utf8)
        })
        try await upload.finish()
        let attachment = try await upload.response()
        count("attachments")
        try await refused(.failedPrecondition, BriefingMethods.giveBriefing, Convene_Briefing_V1_GiveBriefingRequest.with {
            $0.meetingID = meeting; $0.brieferName = briefer; $0.brieferRole = .headquarters
            $0.assessment = .with { $0.political = "Fragile ceasefire" }
        }, as: Convene_Briefing_V1_BriefingRecord.self, by: "secretariat")
        _ = try await call(BriefingMethods.giveBriefing, Convene_Briefing_V1_GiveBriefingRequest.with {
            $0.meetingID = meeting; $0.brieferName = briefer; $0.brieferRole = field ? .seniorFieldMission : .headquarters
            $0.fieldBrieferUnavailableReason = field ? "" : "The mission has no field presence yet"
            $0.assessment = .with {
                $0.political = "Fragile ceasefire"; $0.military = "Two armed groups outside the agreement"
                $0.humanitarian = "40,000 displaced"; $0.humanRights = "Reports of arbitrary detention"
            }
            $0.attachmentIds = [attachment.id]
        }, as: Convene_Briefing_V1_BriefingRecord.self, by: "secretariat")
        count("briefings")
    }

    func holdAndSummarize(_ meeting: String, circulate: Bool) async throws {
        _ = try await call(ConsultationMethods.markMeetingHeld, Convene_Consultation_V1_MarkMeetingHeldRequest.with {
            $0.meetingID = meeting
        }, as: Convene_Consultation_V1_Meeting.self, by: "president")
        _ = try await call(ConsultationMethods.prepareSummary, Convene_Consultation_V1_PrepareSummaryRequest.with {
            $0.meetingID = meeting; $0.text = "Contributors' views and concerns, as voiced in the meeting."
        }, as: Convene_Consultation_V1_Summary.self, by: "secretariat")
        if circulate { try await self.circulate(meeting) }
    }

    func circulate(_ meeting: String) async throws {
        try await refused(.permissionDenied, ConsultationMethods.circulateSummary, Convene_Consultation_V1_CirculateSummaryRequest.with {
            $0.meetingID = meeting
        }, as: Convene_Consultation_V1_Summary.self, by: "secretariat")
        _ = try await call(ConsultationMethods.circulateSummary, Convene_Consultation_V1_CirculateSummaryRequest.with {
            $0.meetingID = meeting
        }, as: Convene_Consultation_V1_Summary.self, by: "president")
        count("circulated")
    }

    func report(_ op: String, meeting: String, late: String?) async throws {
        let report = try await call(BriefingMethods.publishReport, Convene_Briefing_V1_PublishReportRequest.with {
            $0.operationID = op; $0.symbol = "S/\(Calendar.current.component(.year, from: Date()))/\(100 + counts["reports", default: 0])"
            $0.title = "Report of the Secretary-General on UNMIVE"; $0.requestedByCouncil = true; $0.text = "..."
        }, as: Convene_Briefing_V1_Report.self, by: "secretariat")
        count("reports")
        let distribute = Convene_Briefing_V1_DistributeReportRequest.with { $0.reportID = report.id; $0.meetingID = meeting }
        if let late {
            try await refused(.failedPrecondition, BriefingMethods.distributeReport, distribute,
                              as: Convene_Briefing_V1_Report.self, by: "secretariat")
            var excused = distribute
            excused.lateReason = late
            _ = try await call(BriefingMethods.distributeReport, excused, as: Convene_Briefing_V1_Report.self, by: "secretariat")
        } else {
            _ = try await call(BriefingMethods.distributeReport, distribute, as: Convene_Briefing_V1_Report.self, by: "secretariat")
        }
    }

    func submitExperience(_ op: String, by party: String) async throws -> String {
        let upload = try await client.streaming(LessonsMethods.submitExperience, requestType: Convene_Lessons_V1_ExperienceChunk.self,
                                                as: Convene_Lessons_V1_Experience.self, options: .bearer(tokens[party]!))
        try await upload.send(.with {
            $0.header = .with { $0.operationID = op; $0.period = .afterWithdrawal; $0.title = "Observer group after-action report"
                                $0.contingent = "Military observer group" }
            $0.text = "Summary. "
        })
        for month in 1...12 {
            try await upload.send(.with { $0.text = "Month \(month): team sites lacked vehicles for verification patrols. " })
        }
        try await upload.finish()
        return try await upload.response().id
    }
}
