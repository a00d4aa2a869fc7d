import ConveneDomain
import ConveneProtobuf
import ConveneProtos
import ConveneRPC
import ConveneStore
import SwiftProtobuf

/// What the Secretariat hands a meeting's participants: fact sheets (II.B.5(c)) and briefings (II.B.5(d), (e)).
extension BriefingService {
    public func issueFactSheet(_ request: Convene_Briefing_V1_IssueFactSheetRequest,
                               context: ServerCallContext) async throws -> Convene_Briefing_V1_FactSheet {
        let caller = try await secretariat(context)
        let title = try requireText(request.title, field: "title", max: 1000)
        let content = try requireText(request.content, field: "content")
        return try await backend.write { [backend] db, events in
            let meeting = try db.requireVisibleMeeting(request.meetingID, caller: caller)
            try BriefingRules.checkFactSheetTiming(meeting.status, scheduledAt: meeting.scheduledAt, now: backend.now,
                                                   recordedAfterTheFact: meeting.pastReason != nil, meetingID: request.meetingID)
            let recipients = try db.invitations(meetingID: meeting.id!).map(\.partyID)
            let sheet = try db.insert(FactSheetRecord(meetingID: meeting.id!, title: title, content: content,
                                                      recipients: recipients, issuedAt: backend.now))
            events.append(backend.event(meeting.operationID, .factSheetIssued, subject: "factsheet-\(sheet.id!)",
                                        "fact sheet handed to \(recipients.count) participants (II.B.5(c))", audience: .meeting(meeting.id!)))
            return sheet.proto
        }
    }

    public func listFactSheets(_ request: Convene_Briefing_V1_ListFactSheetsRequest,
                               context: ServerCallContext) async throws -> Convene_Briefing_V1_ListFactSheetsResponse {
        let caller = try await backend.caller(context)
        return try await backend.read { db in
            let meeting = try db.requireVisibleMeeting(request.meetingID, caller: caller)
            let sheets = try db.factSheets(meetingID: meeting.id!)
            // Read only when a sheet was issued ahead of the start (its recipients are those invited now).
            let invitedNow = sheets.contains { $0.issuedAt < meeting.scheduledAt } ? try db.invitations(meetingID: meeting.id!).map(\.partyID) : []
            return .with {
                $0.factSheets = sheets.map {
                    $0.proto(recipients: BriefingRules.factSheetRecipients(issuedAt: $0.issuedAt, scheduledAt: meeting.scheduledAt,
                                                                          recordedAtIssue: $0.recipients, invitedNow: invitedNow))
                }
            }
        }
    }

    public func giveBriefing(_ request: Convene_Briefing_V1_GiveBriefingRequest,
                             context: ServerCallContext) async throws -> Convene_Briefing_V1_BriefingRecord {
        let caller = try await secretariat(context)
        let briefer = try requireText(request.brieferName, field: "briefer_name", max: 500)
        try request.brieferRole.checkKnown(field: "briefer_role")
        try require(request.brieferRole != .unspecified, .invalidArgument, "briefer_role: required")
        try BriefingRules.checkBriefer(isSeniorFieldMission: request.brieferRole == .seniorFieldMission,
                                       unavailableReason: request.fieldBrieferUnavailableReason)
        let a = request.assessment
        let missing = try BriefingRules.missingDimensions(political: a.political, military: a.military,
                                                          humanitarian: a.humanitarian, humanRights: a.humanRights)
        let attachmentIDs = try request.attachmentIds.map { try PublicID.attachment.parse($0, field: "attachment_ids") }
        if let twice = attachmentIDs.indices.first(where: { attachmentIDs[..<$0].contains(attachmentIDs[$0]) }) {
            throw RPCError(.invalidArgument, "attachment_ids: \(request.attachmentIds[twice]) is named twice")
        }
        return try await backend.write { [backend] db, events in
            let meeting = try db.requireVisibleMeeting(request.meetingID, caller: caller)
            for (index, id) in attachmentIDs.enumerated() {
                guard let attachment = try db.attachment(id: id), attachment.complete, attachment.meetingID == meeting.id else {
                    throw db.attachmentMismatch(id, text: request.attachmentIds[index], meeting: meeting, meetingText: request.meetingID,
                                                caller: caller)
                }
            }
            let briefing = try db.insert(BriefingRecordRow(
                meetingID: meeting.id!, brieferName: briefer, brieferRole: request.brieferRole.rawValue,
                unavailableReason: request.fieldBrieferUnavailableReason, political: a.political, military: a.military,
                humanitarian: a.humanitarian, humanRights: a.humanRights, notAssessed: missing,
                attachmentIDs: attachmentIDs, givenAt: backend.now))
            events.append(backend.event(meeting.operationID, .briefingGiven, subject: "briefing-\(briefing.id!)",
                                        "briefing by \(briefer)", audience: .meeting(meeting.id!)))
            return briefing.proto
        }
    }

    public func listBriefings(_ request: Convene_Briefing_V1_ListBriefingsRequest,
                              context: ServerCallContext) async throws -> Convene_Briefing_V1_ListBriefingsResponse {
        let caller = try await backend.caller(context)
        return try await backend.read { db in
            let meeting = try db.requireVisibleMeeting(request.meetingID, caller: caller)
            return .with { $0.briefings = (try? db.briefings(meetingID: meeting.id!).map(\.proto)) ?? [] }
        }
    }
}

extension StoreReader {
    /// Why attachment `id` cannot go with a briefing in `meeting`: it does not exist (or is not
    /// complete), or it belongs to another meeting, named when the caller may see that one.
    func attachmentMismatch(_ id: Int64, text: String, meeting: MeetingRecord, meetingText: String, caller: Party) -> RPCError {
        guard let attachment = try? attachment(id: id), attachment.complete,
              let owner = try? self.meeting(id: attachment.meetingID),
              (try? maySeeMeeting(owner.id!, caller: caller)) == true
        else { return RPCError(.notFound, "attachment_ids: no attachment \(text)") }
        return RPCError(.failedPrecondition,
            "attachment_ids: \(text) is an attachment of meeting \(PublicID.meeting.format(owner.id)), not of \(meetingText)")
    }
}
