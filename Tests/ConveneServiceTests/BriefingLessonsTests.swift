import ConveneClient
import ConveneDomain
import ConveneProtos
import ConveneRPC
import ConveneStore
import ConveneTransport
import Foundation
import XCTest

typealias BM = BriefingMethods
typealias LM = LessonsMethods

final class BriefingLessonsTests: OperationTestCase {

    var now: Int64 { f.now }

    /// Reports published so far (each has a symbol of its own).
    var published = 0

    func publish(requested: Bool = true) async throws -> Convene_Briefing_V1_Report {
        published += 1
        let symbol = "S/2026/\(811 + published)"
        return try await f.client.unary(BM.publishReport, Convene_Briefing_V1_PublishReportRequest.with {
            $0.operationID = operation; $0.symbol = symbol; $0.title = "Report of the Secretary-General on UNMIX"
            $0.text = "..."; $0.requestedByCouncil = requested
        }, as: Convene_Briefing_V1_Report.self, options: f.options("Secretariat"))
    }

    func testReportsReachContributorsInTimeAndBeforeTheCouncil() async throws {
        await assertRPCError(.permissionDenied, containing: "Secretariat") {
            try await self.f.client.unary(BM.publishReport, Convene_Briefing_V1_PublishReportRequest.with {
                $0.operationID = self.operation; $0.symbol = "S/1"; $0.title = "x"
            }, as: Convene_Briefing_V1_Report.self, options: self.f.options("President"))
        }
        // A meeting in 10 hours: the 48-hour lead time is broken; refused, then flagged with a reason.
        let soon = try await f.convene(operation, at: now + 10 * 3_600_000)
        let report = try await publish()
        // A symbol names one document, whatever the operation, however its letters are written (B17).
        let other = try await f.makeOperation(name: "UNMIX-2")
        await assertRPCError(.alreadyExists, containing: "a report with the symbol \(report.symbol.lowercased()) already exists on \(operation): \(report.id) (\(report.symbol))") {
            try await self.f.client.unary(BM.publishReport, Convene_Briefing_V1_PublishReportRequest.with {
                $0.operationID = other; $0.symbol = report.symbol.lowercased(); $0.title = "Another report"
            }, as: Convene_Briefing_V1_Report.self, options: self.f.options("Secretariat"))
        }
        await assertRPCError(.failedPrecondition, containing: "II.B.5(b)") {
            try await self.f.client.unary(BM.distributeReport, Convene_Briefing_V1_DistributeReportRequest.with {
                $0.reportID = report.id; $0.meetingID = soon.id
            }, as: Convene_Briefing_V1_Report.self, options: self.f.options("Secretariat"))
        }
        let late = try await f.client.unary(BM.distributeReport, Convene_Briefing_V1_DistributeReportRequest.with {
            $0.reportID = report.id; $0.meetingID = soon.id; $0.lateReason = "Report finalized after the attack of 3 May"
        }, as: Convene_Briefing_V1_Report.self, options: f.options("Secretariat"))
        XCTAssertEqual(late.flags.count, 1)
        XCTAssertEqual(late.lateReason, "Report finalized after the attack of 3 May")

        // In time, nothing flagged.
        let third = try await publish()
        let distant = try await f.convene(operation, stage: .significantDevelopments, at: now + 20 * 86_400_000)
        let onTime = try await f.client.unary(BM.distributeReport, Convene_Briefing_V1_DistributeReportRequest.with {
            $0.reportID = third.id; $0.meetingID = distant.id
        }, as: Convene_Briefing_V1_Report.self, options: f.options("Secretariat"))
        XCTAssertTrue(onTime.flags.isEmpty)
        XCTAssertEqual(onTime.meetingID, distant.id)
        // The report went to that meeting: a Council discussion of it convened before the
        // meeting is out of order (II.B.5(b)), as when the meeting itself names the report.
        await assertRPCError(.failedPrecondition, containing: "the contributors' meeting \(distant.id) on \(third.id)") {
            _ = try await self.f.convene(self.operation, form: .councilConsultations, stage: .unspecified, at: self.now + 15 * 86_400_000,
                                         override: "consultations already set by the programme of work", reportID: third.id)
        }

        // A meeting in 5 days with a Council discussion in 3 days: the Council would discuss first.
        let second = try await publish()
        let later = try await f.convene(operation, stage: .mandateChange, at: now + 5 * 86_400_000)
        _ = try await f.convene(operation, form: .councilConsultations, stage: .unspecified, at: now + 3 * 86_400_000,
                                override: "consultations already set by the programme of work")
        let error = await assertRPCError(.failedPrecondition) {
            try await self.f.client.unary(BM.distributeReport, Convene_Briefing_V1_DistributeReportRequest.with {
                $0.reportID = second.id; $0.meetingID = later.id
            }, as: Convene_Briefing_V1_Report.self, options: self.f.options("Secretariat"))
        }
        XCTAssertTrue(error?.message.contains("before the contributors' meeting") ?? false, error?.message ?? "")

    }

    /// Uploads `size` bytes in 64 KiB pieces; returns the stored attachment or the call's error.
    func upload(_ size: Int, to meetingID: String) async throws -> Convene_Briefing_V1_Attachment {
        let upload = try await f.client.streaming(BM.uploadAttachment, requestType: Convene_Briefing_V1_AttachmentChunk.self,
                                                  as: Convene_Briefing_V1_Attachment.self, options: f.options("Secretariat"))
        do {
            try await upload.send(.with { $0.header = .with { $0.meetingID = meetingID; $0.fileName = "annex.pdf" } })
            for start in stride(from: 0, to: size, by: 65_536) {
                try await upload.send(.with { $0.data = Data(repeating: 0x25, count: min(65_536, size - start)) })
            }
            try await upload.finish()
        } catch {
            // The server may end the call while we send; its status comes with the response.
        }
        return try await upload.response()
    }

    func testAnAttachmentOverTheLimitIsRefusedAndNothingOfItStays() async throws {
        let meeting = try await f.convene(operation)
        await f.stop()
        f.configure = { $0.maxAttachmentSize = 5_000_000 }
        try await f.startServer(port: f.port)

        let error = await assertRPCError(.resourceExhausted) { try await self.upload(6_000_000, to: meeting.id) }
        XCTAssertEqual(error?.message, "attachment is over the limit of 5000000 bytes")
        // The 4 MiB stored before the limit was reached are gone with the attachment's row.
        let afterRefusal = try await f.server.store.attachmentCounts()
        XCTAssertEqual(afterRefusal.attachments, 0)
        XCTAssertEqual(afterRefusal.chunks, 0)

        let stored = try await upload(1_500_000, to: meeting.id)
        XCTAssertEqual(stored.size, 1_500_000)
        let chunks = try await f.server.store.attachmentCounts().chunks
        XCTAssertEqual(chunks, 2, "1.5 MB in 1 MiB pieces")
        if let sqlite = f.server.store as? SQLiteStore { XCTAssertEqual(try sqlite.integrityCheck(), "ok") }
    }

    func testFactSheetsBriefingsAndAttachments() async throws {
        let meeting = try await f.convene(operation, extra: ["Host"])
        let sheet = try await f.client.unary(BM.issueFactSheet, Convene_Briefing_V1_IssueFactSheetRequest.with {
            $0.meetingID = meeting.id; $0.title = "UNMIX at a glance"; $0.content = "Strength: 970"
        }, as: Convene_Briefing_V1_FactSheet.self, options: f.options("Secretariat"))
        XCTAssertEqual(Set(sheet.recipientIds), Set(meeting.invitations.map(\.partyID)), "every participant (II.B.5(c))")

        // At the start of the meeting (II.B.5(c)): during a late start, not once it is under way.
        let start = f.now + 3_600_000
        let soon = try await f.convene(operation, at: start)
        f.advance(to: start + 30 * 60_000)
        _ = try await f.client.briefing.issueFactSheet(.with { $0.meetingID = soon.id; $0.title = "T"; $0.content = "C" },
                                                       options: f.options("Secretariat"))
        f.advance(to: start + BriefingRules.factSheetStartGrace + 60_000)
        let late = await assertRPCError(.failedPrecondition) {
            _ = try await self.f.client.briefing.issueFactSheet(.with { $0.meetingID = soon.id; $0.title = "T"; $0.content = "C" },
                                                                options: self.f.options("Secretariat"))
        }
        XCTAssertTrue(late?.message.hasSuffix("1.0 h ago, after the start") == true, late?.message ?? "")

        // A 3 MB map, uploaded in 64 KB pieces, compressed on the wire, and read back intact.
        var map = [UInt8](repeating: 0, count: 3_000_000)
        for i in map.indices { map[i] = UInt8(truncatingIfNeeded: i * 7 + i / 4096) }
        var options = f.options("Secretariat")
        options.requestCompression = .deflate
        let upload = try await f.client.streaming(BM.uploadAttachment, requestType: Convene_Briefing_V1_AttachmentChunk.self,
                                                  as: Convene_Briefing_V1_Attachment.self, options: options)
        try await upload.send(.with {
            $0.header = .with { $0.meetingID = meeting.id; $0.fileName = "sector-map.png"; $0.contentType = "image/png" }
        })
        for start in stride(from: 0, to: map.count, by: 65_536) {
            try await upload.send(.with { $0.data = Data(map[start..<min(start + 65_536, map.count)]) })
        }
        try await upload.finish()
        let attachment = try await upload.response()
        XCTAssertEqual(attachment.size, 3_000_000)

        var download = f.options("Police")
        download.responseCompression = .deflate
        let stream = try await f.client.serverStreaming(BM.downloadAttachment, Convene_Briefing_V1_DownloadAttachmentRequest.with {
            $0.attachmentID = attachment.id
        }, as: Convene_Briefing_V1_AttachmentChunk.self, options: download)
        var received: [UInt8] = []
        var fileName = ""
        for try await chunk in stream.responses {
            if chunk.hasHeader { fileName = chunk.header.fileName }
            XCTAssertLessThanOrEqual(chunk.data.count, 1024 * 1024)
            received.append(contentsOf: chunk.data)
        }
        XCTAssertEqual(fileName, "sector-map.png")
        XCTAssertEqual(received, map)
        await assertRPCError(.notFound) {
            let s = try await self.f.client.serverStreaming(BM.downloadAttachment, Convene_Briefing_V1_DownloadAttachmentRequest.with {
                $0.attachmentID = attachment.id
            }, as: Convene_Briefing_V1_AttachmentChunk.self, options: self.f.options("Agency"))
            for try await _ in s.responses {}
        }

        // Briefings: a headquarters briefer needs a reason; an assessment needs a dimension.
        await assertRPCError(.failedPrecondition, containing: "II.B.5(d)") {
            try await self.f.client.unary(BM.giveBriefing, Convene_Briefing_V1_GiveBriefingRequest.with {
                $0.meetingID = meeting.id; $0.brieferName = "Desk officer"; $0.brieferRole = .headquarters
                $0.assessment = .with { $0.political = "Stable" }
            }, as: Convene_Briefing_V1_BriefingRecord.self, options: self.f.options("Secretariat"))
        }
        await assertRPCError(.invalidArgument, containing: "II.B.5(e)") {
            try await self.f.client.unary(BM.giveBriefing, Convene_Briefing_V1_GiveBriefingRequest.with {
                $0.meetingID = meeting.id; $0.brieferName = "Force Commander"; $0.brieferRole = .seniorFieldMission
            }, as: Convene_Briefing_V1_BriefingRecord.self, options: self.f.options("Secretariat"))
        }
        let briefing = try await f.client.unary(BM.giveBriefing, Convene_Briefing_V1_GiveBriefingRequest.with {
            $0.meetingID = meeting.id; $0.brieferName = "Force Commander"; $0.brieferRole = .seniorFieldMission
            $0.assessment = .with { $0.military = "Armed groups regrouping in the north"; $0.humanitarian = "30,000 displaced" }
            $0.attachmentIds = [attachment.id]
        }, as: Convene_Briefing_V1_BriefingRecord.self, options: f.options("Secretariat"))
        XCTAssertEqual(briefing.dimensionsNotAssessed, ["political", "human rights"])
        XCTAssertEqual(briefing.attachmentIds, [attachment.id])
    }

    func testAdviceSetsOutOptions() async throws {
        await assertRPCError(.failedPrecondition, containing: "I.B.9") {
            try await self.f.client.unary(BM.submitAdvice, Convene_Briefing_V1_SubmitAdviceRequest.with {
                $0.operationID = self.operation; $0.question = "How to respond to the deterioration?"
                $0.options = [.with { $0.title = "Reinforce"; $0.objectiveAnalysis = "Two battalions needed" }]
            }, as: Convene_Briefing_V1_Advice.self, options: self.f.options("Secretariat"))
        }
        await assertRPCError(.failedPrecondition, containing: "objective analysis") {
            try await self.f.client.unary(BM.submitAdvice, Convene_Briefing_V1_SubmitAdviceRequest.with {
                $0.operationID = self.operation; $0.question = "?"
                $0.options = [.with { $0.title = "A"; $0.objectiveAnalysis = "x" }, .with { $0.title = "B" }]
            }, as: Convene_Briefing_V1_Advice.self, options: self.f.options("Secretariat"))
        }
        _ = try await f.client.unary(BM.submitAdvice, Convene_Briefing_V1_SubmitAdviceRequest.with {
            $0.operationID = operation; $0.question = "How to respond to the deterioration?"
            $0.options = [.with { $0.title = "Reinforce"; $0.objectiveAnalysis = "Two battalions restore control in 8 weeks" },
                          .with { $0.title = "Concentrate"; $0.objectiveAnalysis = "Withdraw to three bases; civilians exposed" }]
        }, as: Convene_Briefing_V1_Advice.self, options: f.options("Secretariat"))
        let troops = try await f.client.unary(BM.listAdvice, Convene_Briefing_V1_ListAdviceRequest.with { $0.operationID = operation },
                                              as: Convene_Briefing_V1_ListAdviceResponse.self, options: f.options("Troops"))
        XCTAssertEqual(troops.advice.first?.options.count, 2)
        await assertRPCError(.permissionDenied) {
            try await self.f.client.unary(BM.listAdvice, Convene_Briefing_V1_ListAdviceRequest.with { $0.operationID = self.operation },
                                          as: Convene_Briefing_V1_ListAdviceResponse.self, options: self.f.options("Bystander"))
        }
    }

    func testLessonsFromEvaluationAndExperienceReachMissionPlanning() async throws {
        let evaluation = try await f.client.unary(LM.conveneEvaluationMeeting, Convene_Lessons_V1_ConveneEvaluationMeetingRequest.with {
            $0.operationID = operation; $0.stage = "after the first rotation"; $0.scheduledTime = .init(seconds: 1_790_000_000)
        }, as: Convene_Lessons_V1_EvaluationMeeting.self, options: f.options("Secretariat"))
        XCTAssertTrue(evaluation.invitedPartyIds.contains(f.ids["Troops"]!))
        await assertRPCError(.permissionDenied, containing: "I.B.3") {
            try await self.f.client.unary(LM.conveneEvaluationMeeting, Convene_Lessons_V1_ConveneEvaluationMeetingRequest.with {
                $0.operationID = self.operation; $0.stage = "x"; $0.scheduledTime = .init(seconds: 1_790_000_000)
            }, as: Convene_Lessons_V1_EvaluationMeeting.self, options: self.f.options("President"))
        }

        // No contingent has deployed while the operation is being planned: no experience yet (I.B.4).
        await assertRPCError(.failedPrecondition, containing: "is still being planned: no contingent has deployed") {
            _ = try await self.uploadExperience(as: "Troops", period: .afterWithdrawal)
        }
        _ = try await f.client.unary(CM.updateMandate, Convene_Consultation_V1_UpdateMandateRequest.with {
            $0.operationID = operation; $0.phase = .deployed
        }, as: Convene_Consultation_V1_Operation.self, options: f.options("President"))

        // A long after-action report, streamed in pieces by the contributing country.
        let upload = try await f.client.streaming(LM.submitExperience, requestType: Convene_Lessons_V1_ExperienceChunk.self,
                                                  as: Convene_Lessons_V1_Experience.self, options: f.options("Troops"))
        try await upload.send(.with {
            $0.header = .with { $0.operationID = operation; $0.period = .duringDeployment; $0.title = "After-action report, sector north" }
            $0.text = "Day 1. "
        })
        for day in 2...200 { try await upload.send(.with { $0.text = "Day \(day): patrols delayed by fuel shortages. " }) }
        try await upload.finish()
        let experience = try await upload.response()
        XCTAssertTrue(experience.text.hasPrefix("Day 1. Day 2:"))
        XCTAssertEqual(experience.partyID, f.ids["Troops"])

        await assertRPCError(.permissionDenied, containing: "I.B.4") { _ = try await self.uploadExperience(as: "Donor") }

        let lesson = try await f.client.unary(LM.recordLesson, Convene_Lessons_V1_RecordLessonRequest.with {
            $0.operationID = operation; $0.stage = .deployment
            $0.finding = "Fuel shortages delayed patrols"; $0.recommendation = "Pre-position fuel reserves for 30 days"
            $0.topics = ["Logistics", "fuel"]; $0.sourceID = experience.id
        }, as: Convene_Lessons_V1_Lesson.self, options: f.options("Secretariat"))
        let found = try await f.client.unary(LM.searchLessons, Convene_Lessons_V1_SearchLessonsRequest.with { $0.query = "fuel patrols" },
                                             as: Convene_Lessons_V1_SearchLessonsResponse.self, options: f.options("Troops"))
        XCTAssertEqual(found.lessons.map(\.id), [lesson.id])
        XCTAssertEqual(found.lessons.first?.sourceID, experience.id, "the submitting country reads its experience")
        for party in ["Police", "Bystander"] {
            let other = try await f.client.unary(LM.searchLessons, Convene_Lessons_V1_SearchLessonsRequest.with { $0.query = "fuel patrols" },
                                                 as: Convene_Lessons_V1_SearchLessonsResponse.self, options: f.options(party))
            XCTAssertEqual(other.lessons.map(\.sourceID), [""], "\(party) may not list the experience, so is not told of it")
        }
        let none = try await f.client.unary(LM.searchLessons, Convene_Lessons_V1_SearchLessonsRequest.with { $0.topic = "medical" },
                                            as: Convene_Lessons_V1_SearchLessonsResponse.self, options: f.options("Troops"))
        XCTAssertTrue(none.lessons.isEmpty)

        // A new operation's mission-planning meeting whose paper mentions logistics gets the lesson.
        let next = try await f.makeOperation(name: "UNMIX-2")
        let planning = try await f.client.unary(CM.conveneMeeting, Convene_Consultation_V1_ConveneMeetingRequest.with {
            $0.operationID = next; $0.form = .consultationMeeting; $0.stage = .missionPlanning
            $0.scheduledTime = .init(seconds: 1_800_000_000)
            $0.informalPaper = .with { $0.agenda = "Concept of operations"; $0.issues = ["Logistics and sustainment"] }
        }, as: Convene_Consultation_V1_Meeting.self, options: f.options("President"))
        XCTAssertEqual(planning.informalPaper.backgroundDocuments.map(\.lessonID), [lesson.id])
    }
}
