import ConveneDomain
import ConveneProtobuf
import ConveneProtos
import ConveneRPC
import ConveneStore
import SwiftProtobuf

/// Contributors' requests for meetings (II.A.1, II.B.2) and the summaries of meetings (II.B.6).
extension ConsultationService {
    /// Most concerns a request carries, and the longest one.
    static let maxConcerns = 50
    static let maxConcernBytes = 2_000

    public func requestMeeting(_ request: Convene_Consultation_V1_RequestMeetingRequest,
                               context: ServerCallContext) async throws -> Convene_Consultation_V1_MeetingRequest {
        let caller = try await backend.caller(context)
        let form = try meetingForm(request.form)
        let reason = try requireText(request.reason, field: "reason")
        try require(request.concerns.count <= Self.maxConcerns, .invalidArgument, "concerns: at most \(Self.maxConcerns)")
        for (index, concern) in request.concerns.enumerated() {
            _ = try requireText(concern, field: "concerns[\(index)]", max: Self.maxConcernBytes)
            try require(!request.concerns[..<index].contains(concern), .invalidArgument, "concerns[\(index)]: given twice")
        }
        return try await backend.write { [backend] db, events in
            let operation = try db.requireOperation(request.operationID)
            try RequestRules.checkRequestable(phase: operation.phase, operationID: request.operationID)
            try RequestRules.checkMayRequest(caller, facts: try db.facts(of: operation), operationID: request.operationID, form: form)
            let record = try db.insert(MeetingRequestRecord(operationID: operation.id!, requestedBy: caller.id, form: form,
                                                            reason: reason, concerns: request.concerns, createdAt: backend.now))
            events.append(backend.event(operation.id!, .meetingRequested, subject: PublicID.request.format(record.id),
                                        "\(caller.name) requests \(form.name) (II.A.1, II.B.2)",
                                        audience: .request(requestedBy: caller.id)))
            return record.proto
        }
    }

    public func listMeetingRequests(_ request: Convene_Consultation_V1_ListMeetingRequestsRequest,
                                    context: ServerCallContext) async throws -> Convene_Consultation_V1_ListMeetingRequestsResponse {
        let caller = try await backend.caller(context)
        return try await backend.read { db in
            let operationID = request.operationID.isEmpty ? nil : try db.requireOperation(request.operationID).id
            let all = try db.requests(operationID: operationID, status: try requestStatus(request.status))
            return .with { $0.requests = all.filter { RequestRules.visible(caller, requestedBy: $0.requestedBy) }.map(\.proto) }
        }
    }

    public func declineMeetingRequest(_ request: Convene_Consultation_V1_DeclineMeetingRequestRequest,
                                      context: ServerCallContext) async throws -> Convene_Consultation_V1_MeetingRequest {
        try RequestRules.checkMayDecide(try await backend.caller(context))
        let reason = try requireText(request.reason, field: "reason")
        return try await backend.write { [backend] db, events in
            let id = try PublicID.request.parse(request.requestID, field: "request_id")
            guard var record = try db.request(id: id) else { throw PublicID.request.notFound(request.requestID) }
            try RequestRules.checkPending(record.facts(id: request.requestID))
            record.status = .declined
            record.declineReason = reason
            try db.update(record)
            events.append(backend.event(record.operationID, .meetingRequestDeclined, subject: request.requestID,
                                        "declined: \(reason)", audience: .request(requestedBy: record.requestedBy)))
            return record.proto
        }
    }

    public func prepareSummary(_ request: Convene_Consultation_V1_PrepareSummaryRequest,
                               context: ServerCallContext) async throws -> Convene_Consultation_V1_Summary {
        let caller = try await backend.caller(context)
        try SummaryRules.checkMayPrepare(caller)
        let text = try requireText(request.text, field: "text")
        return try await backend.write { [backend] db, events in
            let meeting = try db.requireVisibleMeeting(request.meetingID, caller: caller)
            try SummaryRules.checkMayBePrepared(form: meeting.form, meeting: meeting.status,
                                                existing: try db.summary(meetingID: meeting.id!)?.status, meetingID: request.meetingID)
            let summary = SummaryRecord(meetingID: meeting.id!, text: text, preparedBy: caller.id, preparedAt: backend.now)
            try db.save(summary)
            events.append(backend.event(meeting.operationID, .summaryPrepared, subject: request.meetingID,
                                        "summary prepared (II.B.6)", audience: .meeting(meeting.id!)))
            return summary.proto
        }
    }

    public func circulateSummary(_ request: Convene_Consultation_V1_CirculateSummaryRequest,
                                 context: ServerCallContext) async throws -> Convene_Consultation_V1_Summary {
        let caller = try await backend.caller(context)
        try SummaryRules.checkMayCirculate(caller)
        return try await backend.write { [backend] db, events in
            let meeting = try db.requireVisibleMeeting(request.meetingID, caller: caller)
            try SummaryRules.checkHasSummaries(form: meeting.form, meetingID: request.meetingID)
            let existing = try db.summary(meetingID: meeting.id!)
            try SummaryRules.checkMayBeCirculated(existing?.status, meetingID: request.meetingID)
            guard var summary = existing else { throw PublicID.meeting.notFound(request.meetingID) }
            summary.status = .circulated
            summary.circulatedAt = backend.now
            try db.save(summary)
            try db.flagDiscussionsHeldBefore(summaryOf: meeting, circulatedAt: backend.now)
            events.append(backend.event(meeting.operationID, .summaryCirculated, subject: request.meetingID,
                                        "summary circulated to the Council members (II.B.6)", audience: .meeting(meeting.id!)))
            return summary.proto
        }
    }

    public func getSummary(_ request: Convene_Consultation_V1_GetSummaryRequest,
                           context: ServerCallContext) async throws -> Convene_Consultation_V1_Summary {
        let caller = try await backend.caller(context)
        try SummaryRules.checkMayRead(caller)
        return try await backend.read { db in
            let meeting = try db.circulatedToTheCouncil(request.meetingID, caller: caller)
                ?? db.requireVisibleMeeting(request.meetingID, caller: caller)
            try SummaryRules.checkHasSummaries(form: meeting.form, meetingID: request.meetingID)
            let summary = try db.summary(meetingID: meeting.id!)
            try SummaryRules.checkReadable(caller, summary?.status, meetingID: request.meetingID)
            guard let summary else { throw PublicID.meeting.notFound(request.meetingID) }
            return summary.proto
        }
    }
}

/// A status to filter requests by: nil for all (unspecified).
func requestStatus(_ status: Convene_Consultation_V1_RequestStatus) throws -> RequestStatus? {
    guard status != .unspecified else { return nil }
    guard let domain = RequestStatus(rawValue: status.rawValue) else {
        throw RPCError(.invalidArgument, "status: unknown value \(status.rawValue)")
    }
    return domain
}

extension StoreReader {
    /// II.B.6: a summary, once circulated, is the Council members': those who joined the Council
    /// after its meeting was convened (and so were not invited) read it too. Nil for anything
    /// else, which the meeting's own visibility then decides.
    func circulatedToTheCouncil(_ value: String, caller: Party) throws -> MeetingRecord? {
        guard caller.isCouncilMember, let id = try? PublicID.meeting.parse(value, field: "meeting_id"),
              let meeting = try meeting(id: id), meeting.form == .consultationMeeting,
              try summary(meetingID: id)?.status == .circulated else { return nil }
        return meeting
    }
}

extension StoreWriter {
    /// II.B.6 when a summary is circulated after a Council members' discussion that was recorded
    /// as held already (both recorded after the fact, the discussion first): it did not reach
    /// them before that discussion, which is flagged as if the summary had been late when the
    /// discussion was recorded (`MeetingRules.lateSummaryFlags`).
    func flagDiscussionsHeldBefore(summaryOf meeting: MeetingRecord, circulatedAt: Int64) throws {
        let circulated = MeetingRules.EarlierMeeting(id: PublicID.meeting.format(meeting.id), form: meeting.form,
                                                     scheduledAt: meeting.scheduledAt, summary: .circulated, circulatedAt: circulatedAt)
        for var discussion in try meetings(operationID: meeting.operationID)
        where discussion.status == .held && discussion.id != meeting.id {
            let flags = MeetingRules.lateSummaryFlags(form: discussion.form, scheduledAt: discussion.scheduledAt, earlier: [circulated],
                                                      overridden: discussion.summaryOverrideReason != nil)
                .filter { !discussion.flags.contains($0) }
            guard !flags.isEmpty else { continue }
            discussion.flags += flags
            try update(discussion)
        }
    }
}
