import ConveneClient
import ConveneProtos
import ConveneRPC
import ConveneTransport
import Foundation
import SwiftProtobuf

/// The demonstration's recurring steps: operations, meetings, statements, materials, summaries, reports.
extension DemoPlay {
    func timestamp(_ millis: Int64) -> Google_Protobuf_Timestamp {
        Google_Protobuf_Timestamp(seconds: millis / 1000, nanos: Int32(millis % 1000) * 1_000_000)
    }

    func text(_ time: Google_Protobuf_Timestamp) -> String {
        ISO8601DateFormatter().string(from: time.date)
    }

    func operation(_ name: String, host: String?) async throws -> String {
        try await call(ConsultationMethods.createOperation, Convene_Consultation_V1_CreateOperationRequest.with {
            $0.name = name; $0.phase = .planning; $0.mandate = "Support the ceasefire and protect civilians"
            $0.useOfForce = "Self-defence"; if let host { $0.hostCountryID = ids[host]! }
        }, as: Convene_Consultation_V1_Operation.self, by: "secretariat").id
    }

    func meetingRequest(_ op: String, form: Convene_Consultation_V1_MeetingForm = .consultationMeeting,
                        stage: Convene_Consultation_V1_Stage, at millis: Int64, extra: [String] = [],
                        issues: [String] = ["Situation on the ground"], requestID: String = "", override: String = "",
                        past: String = "", report: String = "", late: String = "") -> Convene_Consultation_V1_ConveneMeetingRequest {
        .with {
            $0.operationID = op; $0.form = form; $0.stage = stage; $0.requestID = requestID
            $0.scheduledTime = timestamp(millis)
            $0.additionalInviteeIds = extra.map { ids[$0]! }
            $0.informalPaper = .with { $0.agenda = "Consultation on UNMIVE"; $0.issues = issues }
            $0.summaryOverrideReason = override
            $0.pastMeetingReason = past
            $0.reportID = report
            $0.lateReason = late
        }
    }

    func convene(_ op: String, form: Convene_Consultation_V1_MeetingForm = .consultationMeeting,
                 stage: Convene_Consultation_V1_Stage, at millis: Int64, extra: [String] = [],
                 issues: [String] = ["Situation on the ground"], requestID: String = "", override: String = "",
                 past: String = "", reportID: String = "", late: String = "") async throws -> Convene_Consultation_V1_Meeting {
        count("meetings")
        let meeting = try await call(ConsultationMethods.conveneMeeting,
                                     meetingRequest(op, form: form, stage: stage, at: millis, extra: extra, issues: issues,
                                                    requestID: requestID, override: override, past: past, report: reportID,
                                                    late: late),
                                     as: Convene_Consultation_V1_Meeting.self, by: "president")
        say("\(meeting.id): \(form) \(stage == .unspecified ? "" : "at \(stage) ")on \(text(meeting.scheduledTime))"
            + (past.isEmpty ? "" : ", recorded after the fact"))
        return meeting
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

    func materials(_ meeting: String, briefer: String) async throws {
        _ = try await call(BriefingMethods.issueFactSheet, Convene_Briefing_V1_IssueFactSheetRequest.with {
            $0.meetingID = meeting; $0.title = "UNMIVE at a glance"; $0.content = "Authorized strength 1,630; budget pending."
        }, as: Convene_Briefing_V1_FactSheet.self, by: "secretariat")
        count("fact_sheets")
        let upload = try await client.streaming(BriefingMethods.uploadAttachment, requestType: Convene_Briefing_V1_AttachmentChunk.self,
                                                as: Convene_Briefing_V1_Attachment.self, options: options("secretariat"))
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
            $0.meetingID = meeting; $0.brieferName = briefer; $0.brieferRole = .headquarters
            $0.fieldBrieferUnavailableReason = "The mission has no field presence yet"
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

    /// A report the Council requested; its id.
    func publishReport(_ op: String) async throws -> String {
        let report = try await call(BriefingMethods.publishReport, Convene_Briefing_V1_PublishReportRequest.with {
            $0.operationID = op
            // A symbol names one report on the server, and the demo may play again on it: tagged as its names are.
            $0.symbol = "S/\(Calendar.current.component(.year, from: Date()))/\(100 + counts["reports", default: 0]) [demo \(tag)]"
            $0.title = "Report of the Secretary-General on UNMIVE"; $0.requestedByCouncil = true; $0.text = "..."
        }, as: Convene_Briefing_V1_Report.self, by: "secretariat")
        count("reports")
        return report.id
    }

    /// Distributes a report for a contributors' meeting: in time, or refused and then sent with the reason.
    func distribute(_ report: String, to meeting: String, late: String?) async throws {
        let distribute = Convene_Briefing_V1_DistributeReportRequest.with { $0.reportID = report; $0.meetingID = meeting }
        guard let late else {
            _ = try await call(BriefingMethods.distributeReport, distribute, as: Convene_Briefing_V1_Report.self, by: "secretariat")
            say("  \(report) reached the invitees of \(meeting) in time (II.B.5(b)).")
            return
        }
        try await refused(.failedPrecondition, BriefingMethods.distributeReport, distribute,
                          as: Convene_Briefing_V1_Report.self, by: "secretariat")
        var excused = distribute
        excused.lateReason = late
        let sent = try await call(BriefingMethods.distributeReport, excused, as: Convene_Briefing_V1_Report.self, by: "secretariat")
        count("flagged", sent.flags.count)
        say("  \(report) distributed late with the reason, flagged: \(sent.flags.joined(separator: "; ")).")
    }

    func submitExperience(_ op: String, by party: String) async throws -> String {
        let upload = try await client.streaming(LessonsMethods.submitExperience, requestType: Convene_Lessons_V1_ExperienceChunk.self,
                                                as: Convene_Lessons_V1_Experience.self, options: options(party))
        try await upload.send(.with {
            $0.header = .with { $0.operationID = op; $0.period = .duringDeployment; $0.title = "Observer group after-action report"
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
