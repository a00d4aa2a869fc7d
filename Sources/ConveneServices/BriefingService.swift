import ConveneDomain
import ConveneProtobuf
import ConveneProtos
import ConveneRPC
import ConveneStore
import Crypto
import Foundation
import NIOCore
import SwiftProtobuf

/// Reports, fact sheets, briefings with attachments, and advice (II.B.5(b)-(f), I.B.8, I.B.9).
public struct BriefingService: Sendable {
    let store: any ConveneStore
    let auth: Authenticator
    let events: EventBus
    /// How long before a contributors' meeting a Council-requested report must reach the invitees (II.B.5(b)).
    let reportLeadTime: Duration
    /// Largest attachment accepted.
    let maxAttachmentSize: Int64
    static let chunkSize = 1024 * 1024

    public init(store: any ConveneStore, events: EventBus, reportLeadTime: Duration = .seconds(48 * 3600),
                maxAttachmentSize: Int64 = 1 << 30) {
        self.store = store
        self.auth = Authenticator(store: store)
        self.events = events
        self.reportLeadTime = reportLeadTime
        self.maxAttachmentSize = maxAttachmentSize
    }

    var leadTimeMillis: Int64 { reportLeadTime.components.seconds * 1000 }

    func write<T: Sendable>(_ body: @escaping @Sendable (any StoreWriter, inout [EventRecord]) throws -> T) async throws -> T {
        try await store.write(publishingTo: events, body)
    }

    func secretariat(_ context: ServerCallContext) async throws -> Party {
        let caller = try await auth.caller(context.requestMetadata)
        try BriefingRules.checkMayPublish(caller)
        return caller
    }

    public func register(with router: Router) throws {
        try registerReports(with: router)
        try registerMeetingMaterial(with: router)
        try registerAttachments(with: router)
    }

    func registerReports(with router: Router) throws {
        typealias M = BriefingMethods
        try router.registerAsyncUnary(M.publishReport) {
            (request: Convene_Briefing_V1_PublishReportRequest, context, _) -> Convene_Briefing_V1_Report in
            _ = try await secretariat(context)
            let title = try requireText(request.title, field: "title", max: 1000)
            let symbol = try requireText(request.symbol, field: "symbol", max: 100)
            return try await write { db, events in
                let operation = try db.requireOperation(request.operationID)
                let report = try db.insert(ReportRecord(operationID: operation.id!, symbol: symbol, title: title, text: request.text,
                                                        requestedByCouncil: request.requestedByCouncil, publishedAt: Clock.nowMillis()))
                events.append(event(operation.id!, "report.published", subject: "report-\(report.id!)", "\(symbol): \(title)"))
                return report.proto
            }
        }

        try router.registerAsyncUnary(M.distributeReport) {
            (request: Convene_Briefing_V1_DistributeReportRequest, context, _) -> Convene_Briefing_V1_Report in
            let caller = try await secretariat(context)
            let lead = leadTimeMillis
            return try await write { db, events in
                let id = try PublicID.report.parse(request.reportID, field: "report_id")
                guard var report = try db.report(id: id) else { throw PublicID.report.notFound(request.reportID) }
                try require(report.distributedAt == nil, .failedPrecondition, "report \(request.reportID) was already distributed")
                let meeting = try db.requireVisibleMeeting(request.meetingID, caller: caller)
                try require(meeting.operationID == report.operationID, .failedPrecondition,
                            "meeting \(request.meetingID) is not on the report's operation")
                try require(meeting.form == MeetingForm.consultationMeeting.rawValue, .failedPrecondition,
                            "reports are distributed for consultation meetings with contributors (II.B.5(b))")
                let now = Clock.nowMillis()
                var flags: [String] = []
                if report.requestedByCouncil {
                    let discussions = try db.meetings(operationID: report.operationID)
                        .filter { MeetingForm(rawValue: $0.form)?.isCouncilDiscussion == true }.map(\.scheduledAt)
                    flags = BriefingRules.distributionFlags(now: now, meetingAt: meeting.scheduledAt, leadTime: lead,
                                                            councilDiscussionsAt: discussions)
                }
                let reason = request.lateReason.trimmingCharacters(in: .whitespacesAndNewlines)
                if !flags.isEmpty && reason.isEmpty {
                    throw RPCError(.failedPrecondition, flags.joined(separator: "; ") + "; give late_reason to distribute anyway")
                }
                report.meetingID = meeting.id
                report.distributedAt = now
                report.flags = flags
                report.lateReason = flags.isEmpty ? nil : reason
                try db.update(report)
                events.append(event(report.operationID, flags.isEmpty ? "report.distributed" : "report.distributed_late",
                                    subject: request.reportID, flags.isEmpty ? "distributed to the invitees" : flags.joined(separator: "; "),
                                    meetingID: meeting.id))
                return report.proto
            }
        }

        try router.registerAsyncUnary(M.listReports) {
            (request: Convene_Briefing_V1_ListReportsRequest, context, _) -> Convene_Briefing_V1_ListReportsResponse in
            _ = try await auth.caller(context.requestMetadata)
            return try await store.read { db in
                let operation = try db.requireOperation(request.operationID)
                return .with { $0.reports = (try? db.reports(operationID: operation.id!).map(\.proto)) ?? [] }
            }
        }

        try router.registerAsyncUnary(M.submitAdvice) {
            (request: Convene_Briefing_V1_SubmitAdviceRequest, context, _) -> Convene_Briefing_V1_Advice in
            _ = try await secretariat(context)
            let question = try requireText(request.question, field: "question")
            try BriefingRules.checkOptions(request.options.map { ($0.title, $0.objectiveAnalysis) })
            return try await write { db, events in
                let operation = try db.requireOperation(request.operationID)
                let advice = try db.insert(AdviceRecord(operationID: operation.id!, question: question,
                                                        options: request.options.map { AdviceOptionRecord(title: $0.title, analysis: $0.objectiveAnalysis) },
                                                        submittedAt: Clock.nowMillis()))
                events.append(event(operation.id!, "advice.submitted", subject: "advice-\(advice.id!)",
                                    "\(request.options.count) options (I.B.9)"))
                return advice.proto
            }
        }

        try router.registerAsyncUnary(M.listAdvice) {
            (request: Convene_Briefing_V1_ListAdviceRequest, context, _) -> Convene_Briefing_V1_ListAdviceResponse in
            let caller = try await auth.caller(context.requestMetadata)
            return try await store.read { db in
                let operation = try db.requireOperation(request.operationID)
                // Advice goes to the Council and the contributors (I.B.9).
                let contributes = try db.contributions(operationID: operation.id!).contains { $0.partyID == caller.id }
                try require(caller.isCouncilMember || caller.isSecretariat || contributes, .permissionDenied,
                            "Secretariat advice on \(request.operationID) goes to the Council and its contributors (I.B.9)")
                return .with { $0.advice = (try? db.advice(operationID: operation.id!).map(\.proto)) ?? [] }
            }
        }
    }

    func registerMeetingMaterial(with router: Router) throws {
        typealias M = BriefingMethods
        try router.registerAsyncUnary(M.issueFactSheet) {
            (request: Convene_Briefing_V1_IssueFactSheetRequest, context, _) -> Convene_Briefing_V1_FactSheet in
            let caller = try await secretariat(context)
            let title = try requireText(request.title, field: "title", max: 1000)
            let content = try requireText(request.content, field: "content")
            return try await write { db, events in
                let meeting = try db.requireVisibleMeeting(request.meetingID, caller: caller)
                try require(meeting.status == MeetingStatus.convened.rawValue, .failedPrecondition,
                            "fact sheets are handed to participants at the start of a meeting (II.B.5(c)); \(request.meetingID) was already held")
                let recipients = try db.invitations(meetingID: meeting.id!).map(\.partyID)
                let sheet = try db.insert(FactSheetRecord(meetingID: meeting.id!, title: title, content: content,
                                                          recipients: recipients, issuedAt: Clock.nowMillis()))
                events.append(event(meeting.operationID, "factsheet.issued", subject: "factsheet-\(sheet.id!)",
                                    "fact sheet handed to \(recipients.count) participants (II.B.5(c))", meetingID: meeting.id))
                return sheet.proto
            }
        }

        try router.registerAsyncUnary(M.listFactSheets) {
            (request: Convene_Briefing_V1_ListFactSheetsRequest, context, _) -> Convene_Briefing_V1_ListFactSheetsResponse in
            let caller = try await auth.caller(context.requestMetadata)
            return try await store.read { db in
                let meeting = try db.requireVisibleMeeting(request.meetingID, caller: caller)
                return .with { $0.factSheets = (try? db.factSheets(meetingID: meeting.id!).map(\.proto)) ?? [] }
            }
        }

        try router.registerAsyncUnary(M.giveBriefing) {
            (request: Convene_Briefing_V1_GiveBriefingRequest, context, _) -> Convene_Briefing_V1_BriefingRecord in
            let caller = try await secretariat(context)
            let briefer = try requireText(request.brieferName, field: "briefer_name", max: 500)
            try require(request.brieferRole != .unspecified, .invalidArgument, "briefer_role: required")
            try BriefingRules.checkBriefer(isSeniorFieldMission: request.brieferRole == .seniorFieldMission,
                                           unavailableReason: request.fieldBrieferUnavailableReason)
            let a = request.assessment
            let missing = try BriefingRules.missingDimensions(political: a.political, military: a.military,
                                                              humanitarian: a.humanitarian, humanRights: a.humanRights)
            let attachmentIDs = try request.attachmentIds.map { try PublicID.attachment.parse($0, field: "attachment_ids") }
            return try await write { db, events in
                let meeting = try db.requireVisibleMeeting(request.meetingID, caller: caller)
                for (index, id) in attachmentIDs.enumerated() {
                    guard let attachment = try db.attachment(id: id), attachment.complete, attachment.meetingID == meeting.id else {
                        throw RPCError(.notFound, "attachment_ids: no attachment \(request.attachmentIds[index]) for meeting \(request.meetingID)")
                    }
                }
                let briefing = try db.insert(BriefingRecordRow(
                    meetingID: meeting.id!, brieferName: briefer, brieferRole: request.brieferRole.rawValue,
                    unavailableReason: request.fieldBrieferUnavailableReason, political: a.political, military: a.military,
                    humanitarian: a.humanitarian, humanRights: a.humanRights, notAssessed: missing,
                    attachmentIDs: attachmentIDs, givenAt: Clock.nowMillis()))
                events.append(event(meeting.operationID, "briefing.given", subject: "briefing-\(briefing.id!)",
                                    "briefing by \(briefer)", meetingID: meeting.id))
                return briefing.proto
            }
        }

        try router.registerAsyncUnary(M.listBriefings) {
            (request: Convene_Briefing_V1_ListBriefingsRequest, context, _) -> Convene_Briefing_V1_ListBriefingsResponse in
            let caller = try await auth.caller(context.requestMetadata)
            return try await store.read { db in
                let meeting = try db.requireVisibleMeeting(request.meetingID, caller: caller)
                return .with { $0.briefings = (try? db.briefings(meetingID: meeting.id!).map(\.proto)) ?? [] }
            }
        }
    }
}
