import ConveneDomain
import ConveneProtobuf
import ConveneProtos
import ConveneRPC
import ConveneStore
import SwiftProtobuf

/// Consultation among the Council, the Secretariat and contributors: resolution 1353,
/// Annex II and I.B.2. Every method is made by an authenticated party; each method's
/// writes, with the events they cause, are one transaction.
public struct ConsultationService: Sendable {
    let store: any ConveneStore
    let auth: Authenticator
    let events: EventBus

    public init(store: any ConveneStore, events: EventBus) {
        self.store = store
        self.auth = Authenticator(store: store)
        self.events = events
    }

    public func register(with router: Router) throws {
        try registerOperations(with: router)
        try registerMeetings(with: router)
        try registerRequests(with: router)
        try registerSummaries(with: router)
        try registerReporting(with: router)
    }

    func caller(_ context: ServerCallContext) async throws -> Party {
        try await auth.caller(context.requestMetadata)
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (any StoreWriter, inout [EventRecord]) throws -> T) async throws -> T {
        try await store.write(publishingTo: events, body)
    }
}

extension ConveneStore {
    /// Runs `body` in one transaction; the events it records are committed with it and
    /// then handed to live watchers. Every service's writes go through here.
    func write<T: Sendable>(publishingTo events: EventBus,
                            _ body: @escaping @Sendable (any StoreWriter, inout [EventRecord]) throws -> T) async throws -> T {
        let (result, recorded) = try await write { db in
            var pending: [EventRecord] = []
            let result = try body(db, &pending)
            let recorded = try pending.map { try db.append($0) }
            return (result, recorded)
        }
        events.publish(recorded)
        return result
    }
}

/// Loading helpers shared by the handlers.
extension StoreReader {
    func requireOperation(_ value: String, field: String = "operation_id") throws -> OperationRecord {
        let id = try PublicID.operation.parse(value, field: field)
        guard let operation = try operation(id: id) else { throw PublicID.operation.notFound(value) }
        return operation
    }

    func requireParty(_ value: String, field: String) throws -> PartyRecord {
        let id = try PublicID.party.parse(value, field: field)
        guard let party = try party(id: id) else { throw PublicID.party.notFound(value) }
        return party
    }

    /// A meeting the caller may see; NOT_FOUND otherwise (so that its existence does not leak).
    func requireVisibleMeeting(_ value: String, caller: Party, field: String = "meeting_id") throws -> MeetingRecord {
        let id = try PublicID.meeting.parse(value, field: field)
        guard let meeting = try meeting(id: id),
              MeetingRules.maySee(caller, invited: try invitation(meetingID: id, partyID: caller.id) != nil)
        else { throw PublicID.meeting.notFound(value) }
        return meeting
    }
}

func event(_ operationID: Int64, _ kind: String, subject: String, _ description: String, meetingID: Int64? = nil) -> EventRecord {
    EventRecord(operationID: operationID, kind: kind, subjectID: subject, description: description,
                meetingID: meetingID, time: Clock.nowMillis())
}
