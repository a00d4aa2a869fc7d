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
        try OperationRules.checkMayReadAccount(try await backend.caller(context))
        let from = request.hasFromTime ? request.fromTime.millis : Int64.min
        let to = request.hasToTime ? request.toTime.millis : Int64.max
        try require(from <= to, .invalidArgument, "from_time: after to_time")
        return try await backend.read { db in
            let operation = try db.requireOperation(request.operationID)
            let operationID = operation.id!
            let meetings = try db.meetings(operationID: operationID).filter {
                $0.scheduledAt >= from && $0.scheduledAt <= to && $0.form != .councilConsultations
            }
            let requests = try db.requests(operationID: operationID, status: nil).filter { $0.createdAt >= from && $0.createdAt <= to }
            var account = Convene_Consultation_V1_ConsultationAccount()
            account.operationID = request.operationID
            for meeting in meetings {
                let concerns = try db.statements(meetingID: meeting.id!).filter(\.concern)
                account.meetings.append(try .with {
                    $0.meeting = try meetingProto(meeting, db: db)
                    $0.participantIds = try db.invitations(meetingID: meeting.id!)
                        .filter { $0.role == ParticipationRole.participant.rawValue }.map { PublicID.party.format($0.partyID) }
                    $0.concerns = concerns.map(\.proto)
                })
                account.concernsRaised += Int32(concerns.count)
                account.concernsAnswered += Int32(concerns.filter { $0.response != nil }.count)
            }
            account.requestsReceived = Int32(requests.count)
            account.requestsDeclined = Int32(requests.filter { $0.status == .declined }.count)
            return account
        }
    }

    /// The backlog after `after_sequence`, then each event as it is committed, in sequence
    /// order and with none left out; each party sees only what it may see.
    public func watchOperation(_ request: Convene_Consultation_V1_WatchOperationRequest,
                               responses: ResponseStreamWriter<Convene_Consultation_V1_OperationEvent>,
                               context: ServerCallContext) async throws {
        let caller = try await backend.caller(context)
        let operationID = try await backend.read { db in try db.requireOperation(request.operationID).id! }
        // Subscribe before reading the backlog, so nothing falls between the two.
        let live = backend.events.subscribe(operationID: operationID)
        var last = request.afterSequence
        var visibleMeetings: [Int64: Bool] = [:]
        func visible(_ event: EventRecord) async throws -> Bool {
            guard let meetingID = event.meetingID else { return true }
            if let known = visibleMeetings[meetingID] { return known }
            let sees = try await backend.read { db in
                MeetingRules.maySee(caller, invited: try db.invitation(meetingID: meetingID, partyID: caller.id) != nil)
            }
            visibleMeetings[meetingID] = sees
            return sees
        }
        /// Sends, in sequence order, every committed event after the last one sent.
        func sendCommitted() async throws {
            while true {
                let batch = try await backend.read { [last] db in try db.events(operationID: operationID, after: last, limit: 500) }
                for event in batch {
                    last = event.sequence!
                    if try await visible(event) { try await responses.send(event.proto) }
                }
                if batch.count < 500 { return }
            }
        }
        try await sendCommitted()
        // Two writers publish after their own commits, so events can be published out of
        // sequence order; a live event is therefore only the signal to send what the store
        // holds after the last one sent (an event is committed before it is published).
        for await event in live {
            guard let sequence = event.sequence, sequence > last else { continue }
            try await sendCommitted()
        }
    }
}
