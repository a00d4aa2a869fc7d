import ConveneDomain
import ConveneProtobuf
import ConveneProtos
import ConveneRPC
import ConveneStore
import Foundation
import SwiftProtobuf

/// Reports, fact sheets, briefings with attachments, and advice (II.B.5(b)-(f), I.B.8, I.B.9).
/// Fact sheets and briefings are in Briefing+Material.swift, attachments in Briefing+Attachments.swift.
public struct BriefingService: BriefingServiceProtocol {
    let backend: Backend
    /// How long before a contributors' meeting a Council-requested report must reach the invitees (II.B.5(b)).
    let reportLeadTime: Duration
    /// Largest attachment accepted.
    let maxAttachmentSize: Int64
    static let chunkSize = 1024 * 1024

    public init(backend: Backend, reportLeadTime: Duration = .seconds(48 * 3600), maxAttachmentSize: Int64 = 1 << 30) {
        self.backend = backend
        self.reportLeadTime = reportLeadTime
        self.maxAttachmentSize = maxAttachmentSize
    }

    var leadTimeMillis: Int64 { reportLeadTime.components.seconds * 1000 }

    /// The caller, who must be of the Secretariat (II.B.5, I.B.9).
    func secretariat(_ context: ServerCallContext) async throws -> Party {
        let caller = try await backend.caller(context)
        try BriefingRules.checkMayPublish(caller)
        return caller
    }

    public func publishReport(_ request: Convene_Briefing_V1_PublishReportRequest,
                              context: ServerCallContext) async throws -> Convene_Briefing_V1_Report {
        _ = try await secretariat(context)
        let title = try requireText(request.title, field: "title", max: 1000)
        let symbol = try requireText(request.symbol, field: "symbol", max: 100)
        return try await backend.write { [backend] db, events in
            let operation = try db.requireOperation(request.operationID)
            // A document symbol names one document, whatever the operation (the UN's own rule
            // for them; symbols are written in capitals, so "s/2026/1" is "S/2026/1"). Only the
            // Secretariat publishes, and it sees every operation: naming the other is no leak.
            if let published = try db.reports(symbol: symbol).first {
                throw RPCError(.alreadyExists, "a report with the symbol \(symbol) already exists on \(PublicID.operation.format(published.operationID)): \(PublicID.report.format(published.id)) (\(published.symbol))")
            }
            let report = try db.insert(ReportRecord(operationID: operation.id!, symbol: symbol, title: title, text: request.text,
                                                    requestedByCouncil: request.requestedByCouncil, publishedAt: backend.now))
            events.append(backend.event(operation.id!, .reportPublished, subject: PublicID.report.format(report.id),
                                        "\(symbol): \(title)", audience: .operation))
            return report.proto
        }
    }

    /// II.B.5(b): to the invitees of a contributors' meeting, the lead time before it and before
    /// the Council members discuss the operation; late only with a reason, and flagged.
    public func distributeReport(_ request: Convene_Briefing_V1_DistributeReportRequest,
                                 context: ServerCallContext) async throws -> Convene_Briefing_V1_Report {
        let caller = try await secretariat(context)
        let lead = leadTimeMillis
        let lateReason = try optionalReason(request.lateReason, field: "late_reason")
        return try await backend.write { [backend] db, events in
            let id = try PublicID.report.parse(request.reportID, field: "report_id")
            guard var report = try db.report(id: id) else { throw PublicID.report.notFound(request.reportID) }
            try BriefingRules.checkNotDistributed(distributed: report.distributedAt != nil, reportID: request.reportID)
            let meeting = try db.requireVisibleMeeting(request.meetingID, caller: caller)
            try BriefingRules.checkDistributionMeeting(meetingOperation: PublicID.operation.format(meeting.operationID),
                                                       reportOperation: PublicID.operation.format(report.operationID),
                                                       form: meeting.form, meetingID: request.meetingID, reportID: request.reportID)
            let now = backend.now
            let flags = report.requestedByCouncil
                ? BriefingRules.distributionFlags(now: now, meetingAt: meeting.scheduledAt, leadTime: lead,
                                                  councilDiscussions: try db.councilDiscussions(operationID: report.operationID))
                : []
            report.lateReason = try BriefingRules.checkLateReason(flags: flags, reason: lateReason)
            report.meetingID = meeting.id
            report.distributedAt = now
            report.flags = flags
            try db.update(report)
            // The event goes to the meeting's invitees: a flag naming another meeting (the Council
            // members' own consultations) stays in the report, for those who may see that meeting.
            // Its kind says only what they may know: a report late only for a Council discussion
            // they cannot see is "distributed" to them (a "late" would tell them of that discussion).
            let told = FlagRules.visible(flags) { $0 == meeting.id }
            events.append(backend.event(report.operationID, told.isEmpty ? .reportDistributed : .reportDistributedLate,
                                        subject: request.reportID,
                                        told.isEmpty ? "distributed to the invitees" : told.joined(separator: "; "),
                                        audience: .meeting(meeting.id!)))
            return report.proto
        }
    }

    public func listReports(_ request: Convene_Briefing_V1_ListReportsRequest,
                            context: ServerCallContext) async throws -> Convene_Briefing_V1_ListReportsResponse {
        let caller = try await backend.caller(context)
        return try await backend.read { db in
            let (operation, _, _) = try db.requireReadableOperation(request.operationID, caller: caller, reading: "the reports")
            // The meeting a report went to is shown only to those who see the meeting.
            return try .with {
                $0.reports = try db.reports(operationID: operation.id!).map { report in
                    var visible = report.proto
                    if let meetingID = report.meetingID,
                       try !db.maySeeMeeting(meetingID, caller: caller) {
                        // When it went out, its flags and their reason tell of the meeting (that
                        // it exists, its time): they are the meeting's invitees'.
                        visible.meetingID = ""
                        visible.clearDistributeTime()
                        visible.flags = []
                        visible.lateReason = ""
                    } else {
                        visible.flags = try db.flags(report.flags, visibleTo: caller)
                        // The reason answers every flag: it may tell of a meeting a hidden one names.
                        if visible.flags.count < report.flags.count { visible.lateReason = "" }
                    }
                    return visible
                }
            }
        }
    }

    public func submitAdvice(_ request: Convene_Briefing_V1_SubmitAdviceRequest,
                             context: ServerCallContext) async throws -> Convene_Briefing_V1_Advice {
        _ = try await secretariat(context)
        let question = try requireText(request.question, field: "question")
        try BriefingRules.checkOptions(request.options.map { ($0.title, $0.objectiveAnalysis) })
        return try await backend.write { [backend] db, events in
            let operation = try db.requireOperation(request.operationID)
            let options = request.options.map { AdviceOptionRecord(title: $0.title, analysis: $0.objectiveAnalysis) }
            let advice = try db.insert(AdviceRecord(operationID: operation.id!, question: question, options: options,
                                                    submittedAt: backend.now))
            events.append(backend.event(operation.id!, .adviceSubmitted, subject: "advice-\(advice.id!)",
                                        "\(request.options.count) options (I.B.9)", audience: .advice))
            return advice.proto
        }
    }

    public func listAdvice(_ request: Convene_Briefing_V1_ListAdviceRequest,
                           context: ServerCallContext) async throws -> Convene_Briefing_V1_ListAdviceResponse {
        let caller = try await backend.caller(context)
        return try await backend.read { db in
            let operation = try db.requireOperation(request.operationID)
            try BriefingRules.checkMayReadAdvice(caller, facts: try db.facts(of: operation), operationID: request.operationID)
            return .with { $0.advice = (try? db.advice(operationID: operation.id!).map(\.proto)) ?? [] }
        }
    }
}

extension StoreReader {
    /// When the Council members' own discussions of an operation are scheduled (II.B.5(b), II.B.6).
    func councilDiscussions(operationID: Int64) throws -> [BriefingRules.CouncilDiscussion] {
        try meetings(operationID: operationID).filter(\.form.isCouncilDiscussion).map {
            BriefingRules.CouncilDiscussion(id: PublicID.meeting.format($0.id), scheduledAt: $0.scheduledAt)
        }
    }
}
