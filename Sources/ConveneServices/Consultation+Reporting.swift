import ConveneDomain
import ConveneProtobuf
import ConveneProtos
import ConveneRPC
import ConveneStore
import SwiftProtobuf

/// What the consultations produce for others: the account for the Secretary-General's
/// report (I.B.2) and the live stream of an operation's events.
extension ConsultationService {
    public func getConsultationAccount(_ request: Convene_Consultation_V1_GetConsultationAccountRequest,
                                       context: ServerCallContext) async throws -> Convene_Consultation_V1_ConsultationAccount {
        let caller = try await backend.caller(context)
        try OperationRules.checkMayReadAccount(caller)
        let from = request.hasFromTime ? try request.fromTime.checkedMillis(field: "from_time") : Int64.min
        let to = request.hasToTime ? try request.toTime.checkedMillis(field: "to_time") : Int64.max
        try require(from <= to, .invalidArgument, "from_time: after to_time")
        return try await backend.read { db in
            let operation = try db.requireOperation(request.operationID)
            let operationID = operation.id!
            // The meetings and requests the caller may see, as GetMeeting and ListMeetingRequests show them.
            let meetings = try db.meetings(operationID: operationID).filter { meeting in
                guard meeting.scheduledAt >= from && meeting.scheduledAt <= to && meeting.form != .councilConsultations else { return false }
                return try db.maySeeMeeting(meeting.id!, caller: caller)
            }
            let requests = try db.requests(operationID: operationID, status: nil).filter {
                $0.createdAt >= from && $0.createdAt <= to && RequestRules.visible(caller, requestedBy: $0.requestedBy)
            }
            var account = Convene_Consultation_V1_ConsultationAccount()
            account.operationID = request.operationID
            for meeting in meetings {
                let concerns = try db.statements(meetingID: meeting.id!).filter(\.concern)
                account.meetings.append(try .with {
                    $0.meeting = try meetingProto(meeting, viewer: caller, db: db)
                    $0.participantIds = try db.invitations(meetingID: meeting.id!)
                        .filter { $0.role == ParticipationRole.participant.rawValue }.map { PublicID.party.format($0.partyID) }
                    $0.concerns = concerns.map(\.proto)
                    $0.recordedAfterTheFact = meeting.pastReason != nil
                })
                account.concernsRaised += Int32(concerns.count)
                account.concernsAnswered += Int32(concerns.filter { $0.response != nil }.count)
                if meeting.pastReason != nil { account.meetingsRecordedAfterTheFact += 1 }
            }
            account.requestsReceived = Int32(requests.count)
            account.requestsDeclined = Int32(requests.filter { $0.status == .declined }.count)
            account.requests = requests.map(\.proto)
            return account
        }
    }

    /// The backlog after `after_sequence`, then each event as it is committed, in sequence
    /// order and with none left out; each party receives what the read method for the event's
    /// subject would show it, judged with its roles as they are when the event is sent. The
    /// stream ends with UNAUTHENTICATED as soon as the caller's credential is revoked.
    public func watchOperation(_ request: Convene_Consultation_V1_WatchOperationRequest,
                               responses: ResponseStreamWriter<Convene_Consultation_V1_OperationEvent>,
                               context: ServerCallContext) async throws {
        let caller = try await backend.participant(context)
        let operationID = try await backend.read { db in
            try db.requireReadableOperation(request.operationID, caller: caller.party, reading: "the events").operation.id!
        }
        try watches.open(party: caller.party.id, operation: operationID, operationID: request.operationID)
        defer { watches.close(party: caller.party.id, operation: operationID) }
        // Subscribe before reading the backlog, so nothing falls between the two.
        let live = backend.events.subscribe(operationID: operationID)
        try await backend.untilRevoked(caller) { [backend] in
            var last = request.afterSequence
            /// Sends, in sequence order, every committed event after the last one sent that the caller may receive.
            func sendCommitted() async throws {
                while true {
                    try Task.checkCancellation()  // e.g. its credential was revoked
                    let batch = try await backend.read { [last] db in
                        try db.eventsAdmitted(operationID: operationID, after: last, limit: 500, partyID: caller.party.id)
                    }
                    for (event, admitted) in batch {
                        last = event.sequence!
                        if admitted { try await responses.send(event.proto) }
                    }
                    if batch.count < 500 { return }
                }
            }
            try await sendCommitted()
            // Two writers (or servers) publish after their own commits, so signals can come out of
            // sequence order; a signal is therefore only the cue to send what the store holds after
            // the last one sent (an event is committed before it is signalled).
            for await sequence in live where sequence > last {
                try await sendCommitted()
            }
        }
    }
}

extension StoreReader {
    /// A batch of an operation's events, each with whether the party receives it (EventAudience),
    /// judged in the same transaction that reads them.
    func eventsAdmitted(operationID: Int64, after: Int64, limit: Int, partyID: Int64) throws -> [(EventRecord, Bool)] {
        let events = try events(operationID: operationID, after: after, limit: limit)
        guard let party = try party(id: partyID)?.party, let operation = try operation(id: operationID) else {
            return events.map { ($0, false) }
        }
        let (access, facts) = try access(party, to: operation)
        return events.map { event in
            (event, event.eventAudience.admits(party, access: access, facts: facts, invitedTo: { meetingID in
                // A failed read hides the event rather than show it.
                (try? maySeeMeeting(meetingID, caller: party)) == true
            }))
        }
    }
}
