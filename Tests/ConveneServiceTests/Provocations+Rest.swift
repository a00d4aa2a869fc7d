import ConveneClient
import ConveneProtos
import ConveneRPC
import ConveneTransport
import Foundation
import XCTest

/// Requests, summaries, briefing and lessons learned.
extension Provocations {
    var rest: [String: Provoke] {
        let op = w.operation
        let request = { (form: Convene_Consultation_V1_MeetingForm, reason: String) in
            Convene_Consultation_V1_RequestMeetingRequest.with { $0.operationID = op; $0.form = form; $0.reason = reason }
        }
        let summary = { (id: String) in Convene_Consultation_V1_GetSummaryRequest.with { $0.meetingID = id } }
        let report = { (id: String, meeting: String) in Convene_Briefing_V1_DistributeReportRequest.with { $0.reportID = id; $0.meetingID = meeting } }
        let option = { (title: String, analysis: String) in Convene_Briefing_V1_AdviceOption.with { $0.title = title; $0.objectiveAnalysis = analysis } }
        let advice = { (options: [Convene_Briefing_V1_AdviceOption]) in
            Convene_Briefing_V1_SubmitAdviceRequest.with { $0.operationID = op; $0.question = "?"; $0.options = options }
        }
        let briefing = { (meeting: String, body: (inout Convene_Briefing_V1_GiveBriefingRequest) -> Void) in
            var request = Convene_Briefing_V1_GiveBriefingRequest.with {
                $0.meetingID = meeting; $0.brieferName = "Desk officer"; $0.brieferRole = .seniorFieldMission
                $0.assessment = .with { $0.political = "Tense" }
            }
            body(&request)
            return request
        }
        return [
            "Q1": { _ = try await self.c.requestMeeting(request(.consultationMeeting, "We pay for it"), options: self.o("Donor")) },
            "Q2": { _ = try await self.c.requestMeeting(request(.secretariatMeeting, "Logistics"), options: self.o("Troops")) },
            "Q3": {
                let id = try await setup { try await self.w.request() }
                _ = try await self.c.declineMeetingRequest(.with { $0.requestID = id; $0.reason = "No" }, options: self.o("Secretariat"))
            },
            "Q4": { _ = try await self.c.requestMeeting(request(.consultationMeeting, " \n "), options: self.o("Troops")) },
            "Q5": {
                var twice = request(.consultationMeeting, "Logistics")
                twice.concerns = ["Fuel", "Fuel"]
                _ = try await self.c.requestMeeting(twice, options: self.o("Troops"))
            },
            "Q6": {
                var ended = request(.consultationMeeting, "Logistics")
                ended.operationID = self.terminated
                _ = try await self.c.requestMeeting(ended, options: self.o("Troops"))
            },
            "S1": {
                let held = try await setup { try await self.w.heldMeeting() }
                _ = try await self.c.prepareSummary(.with { $0.meetingID = held; $0.text = "x" }, options: self.o("Member"))
            },
            "S2": { _ = try await self.c.prepareSummary(.with { $0.meetingID = self.w.meeting.id; $0.text = "x" }, options: self.o("Secretariat")) },
            "S3": {
                _ = try await self.c.prepareSummary(.with { $0.meetingID = self.heldSecretariatMeeting; $0.text = "x" }, options: self.o("Secretariat"))
            },
            "S4": {
                let prepared = try await setup { try await self.w.preparedSummary() }
                _ = try await self.c.circulateSummary(.with { $0.meetingID = prepared }, options: self.o("Secretariat"))
            },
            "S5": {
                let held = try await setup { try await self.w.heldMeeting() }
                _ = try await self.c.circulateSummary(.with { $0.meetingID = held }, options: self.o("President"))
            },
            "S6": { _ = try await self.c.circulateSummary(.with { $0.meetingID = self.w.summarized }, options: self.o("President")) },
            "S7": { _ = try await self.c.getSummary(summary(self.w.summarized), options: self.o("Troops")) },
            "S8": {
                let prepared = try await setup { try await self.w.preparedSummary() }
                _ = try await self.c.getSummary(summary(prepared), options: self.o("Member"))
            },
            "S9": {
                let held = try await setup { try await self.w.heldMeeting() }
                _ = try await self.c.getSummary(summary(held), options: self.o("Member"))
            },
            "B1": { _ = try await self.b.publishReport(.with { $0.operationID = op; $0.symbol = "S/1"; $0.title = "x" }, options: self.o("President")) },
            "B2": {
                let (id, soon) = try await setup {
                    (try await self.w.publishReport(requested: true), try await self.w.f.convene(op, at: self.w.f.now + 10 * self.hours).id)
                }
                _ = try await self.b.distributeReport(report(id, soon), options: self.o("Secretariat"))
            },
            "B3": {
                let (id, past) = try await setup { (try await self.w.publishReport(requested: true), try await self.w.pastMeeting()) }
                _ = try await self.b.distributeReport(report(id, past), options: self.o("Secretariat"))
            },
            "B4": {
                let id = try await setup { try await self.w.publishReport(requested: true) }
                let later = try await setup {
                    _ = try await self.w.f.convene(op, form: .councilConsultations, stage: .unspecified, at: self.w.f.now + 4 * self.w.day,
                                                   override: "Programme of work")
                    return try await self.w.f.convene(op, at: self.w.f.now + 6 * self.w.day).id
                }
                _ = try await self.b.distributeReport(report(id, later), options: self.o("Secretariat"))
            },
            "B17": {
                let symbol = try await setup { () -> String in
                    let symbol = "S/2026/\(self.w.next())"
                    _ = try await self.b.publishReport(.with { $0.operationID = self.w.operation; $0.symbol = symbol; $0.title = "First" },
                                                       options: self.o("Secretariat"))
                    return symbol
                }
                _ = try await self.b.publishReport(.with { $0.operationID = self.w.operation; $0.symbol = symbol; $0.title = "Second" },
                                                   options: self.o("Secretariat"))
            },
            "B5": { _ = try await self.b.distributeReport(report(self.w.report, self.w.meeting.id), options: self.o("Secretariat")) },
            "B6": {
                let id = try await setup { try await self.w.publishReport() }
                _ = try await self.b.distributeReport(report(id, self.secretariatMeeting), options: self.o("Secretariat"))
            },
            "B7": {
                let id = try await setup { try await self.w.publishReport(requested: true) }
                var late = report(id, self.w.meeting.id)
                late.lateReason = "\t"
                _ = try await self.b.distributeReport(late, options: self.o("Secretariat"))
            },
            "B8": {
                let held = try await setup { try await self.w.heldMeeting() }
                _ = try await self.b.issueFactSheet(.with { $0.meetingID = held; $0.title = "x"; $0.content = "y" }, options: self.o("Secretariat"))
            },
            "B9": { _ = try await self.b.giveBriefing(briefing(self.w.meeting.id) { $0.brieferRole = .headquarters }, options: self.o("Secretariat")) },
            "B18": {
                _ = try await self.b.giveBriefing(briefing(self.w.meeting.id) { $0.fieldBrieferUnavailableReason = "but here" },
                                                  options: self.o("Secretariat"))
            },
            "B19": {
                _ = try await self.b.giveBriefing(briefing(self.w.meeting.id) { $0.attachmentIds = [self.w.attachment, self.w.attachment] },
                                                  options: self.o("Secretariat"))
            },
            "B10": { _ = try await self.b.giveBriefing(briefing(self.w.meeting.id) { $0.clearAssessment() }, options: self.o("Secretariat")) },
            "B11": {
                _ = try await self.b.giveBriefing(briefing(self.secretariatMeeting) { $0.attachmentIds = [self.w.attachment] }, options: self.o("Secretariat"))
            },
            "B12": {
                let call = try await self.b.uploadAttachment(options: self.o("Secretariat"))
                do {
                    try await call.send(.with { $0.header = .with { $0.meetingID = self.w.meeting.id; $0.fileName = "big.bin" } })
                    for _ in 0..<4 { try await call.send(.with { $0.data = Data(repeating: 1, count: 60_000) }) }
                    try await call.finish()
                } catch {}
                _ = try await call.response()
            },
            "B13": { _ = try await self.b.submitAdvice(advice([option("Reinforce", "Two battalions")]), options: self.o("Secretariat")) },
            "B14": {
                _ = try await self.b.submitAdvice(advice([option("Reinforce", "Two battalions"), option("reinforce", "Three")]), options: self.o("Secretariat"))
            },
            "B15": { _ = try await self.b.submitAdvice(advice([option("Reinforce", "Two"), option("Withdraw", "")]), options: self.o("Secretariat")) },
            "B16": { _ = try await self.b.listAdvice(.with { $0.operationID = op }, options: self.o("Donor")) },
            "L1": { _ = try await self.w.submitExperience(as: "Donor") },
            "L2": {
                _ = try await self.l.recordLesson(.with { $0.operationID = op; $0.stage = .deployment; $0.finding = "F"; $0.recommendation = "R" },
                                                  options: self.o("President"))
            },
            "L3": {
                _ = try await self.l.recordLesson(.with {
                    $0.operationID = op; $0.stage = .deployment; $0.finding = "F"; $0.recommendation = "R"; $0.sourceID = self.w.meeting.id
                }, options: self.o("Secretariat"))
            },
            "L4": {
                let experience = try await setup { try await self.w.submitExperience(as: "Troops") }
                _ = try await self.l.recordLesson(.with {
                    $0.operationID = self.other; $0.stage = .deployment; $0.finding = "F"; $0.recommendation = "R"; $0.sourceID = experience
                }, options: self.o("Secretariat"))
            },
            "L6": {
                let planned = try await setup {
                    let id = try await self.c.createOperation(.with { $0.name = "UNMPLAN"; $0.phase = .planning }, options: self.o("Secretariat")).id
                    _ = try await self.c.recordContribution(.with {
                        $0.operationID = id; $0.partyID = self.w.id("Troops"); $0.kind = .troops; $0.quantity = 100
                    }, options: self.o("Secretariat"))
                    return id
                }
                let call = try await self.w.client.lessons.submitExperience(options: self.o("Troops"))
                try? await call.send(.with {
                    $0.header = .with { $0.operationID = planned; $0.period = .duringDeployment; $0.title = "Report" }
                    $0.text = "Nothing yet."
                })
                try? await call.finish()
                _ = try await call.response()
            },
            "L5": {
                let upcoming = try await setup {
                    try await self.l.conveneEvaluationMeeting(.with {
                        $0.operationID = op; $0.stage = "first rotation"; $0.scheduledTime = self.at(self.w.f.now + self.w.day)
                    }, options: self.o("Secretariat")).meetingID
                }
                _ = try await self.l.recordLesson(.with {
                    $0.operationID = op; $0.stage = .deployment; $0.finding = "F"; $0.recommendation = "R"; $0.sourceID = upcoming
                }, options: self.o("Secretariat"))
            },
        ]
    }
}
