import ConveneDomain
import ConveneProtobuf
import ConveneProtos
import ConveneRPC
import ConveneStore
import SwiftProtobuf

/// Consultation among the Council, the Secretariat and contributors: resolution 1353,
/// Annex II and I.B.2. Every method is made by an authenticated party; each method's
/// writes, with the events they cause, are one transaction. The methods are grouped by
/// subject in the Consultation+*.swift files; the rules they apply are ConveneDomain's.
public struct ConsultationService: ConsultationServiceProtocol {
    let backend: Backend
    let watches: WatchQuota

    public init(backend: Backend, watchLimits: WatchLimits = WatchLimits()) {
        self.backend = backend
        watches = WatchQuota(limits: watchLimits)
    }
}

/// Loading helpers shared by the services.
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
        guard let meeting = try meeting(id: id), try maySeeMeeting(id, caller: caller) else { throw PublicID.meeting.notFound(value) }
        return meeting
    }

    /// Whether `caller` may see meeting `id` (`MeetingRules.maySee`), by its invitation if any.
    public func maySeeMeeting(_ id: Int64, caller: Party) throws -> Bool {
        if MeetingRules.seesEveryMeeting(caller) { return true }
        let invitation = try invitation(meetingID: id, partyID: caller.id)
        return MeetingRules.maySee(caller, invited: invitation.map { MeetingRules.invitationCounts($0.category, for: caller) } ?? false)
    }

    /// `flags` as `caller` may read them: none naming a meeting it may not see (FlagRules).
    func flags(_ flags: [String], visibleTo caller: Party) throws -> [String] {
        if MeetingRules.seesEveryMeeting(caller) { return flags }
        return try FlagRules.visible(flags) { id in try maySeeMeeting(id, caller: caller) }
    }

    /// What `caller` may know of `operation`'s records, and the facts that decided it.
    func access(_ caller: Party, to operation: OperationRecord) throws -> (access: OperationAccess, facts: OperationFacts) {
        let facts = try facts(of: operation)
        let invited = try isInvited(partyID: caller.id, operationID: operation.id!)
        return (AccessRules.access(caller, facts: facts, invitedToAMeeting: invited), facts)
    }

    /// The operation `value`, whose records `what` the caller may read; PERMISSION_DENIED for a
    /// party that takes no part in it (it may know the operation exists, nothing more).
    func requireReadableOperation(_ value: String, caller: Party, reading what: String,
                                  field: String = "operation_id") throws -> (operation: OperationRecord, access: OperationAccess,
                                                                             facts: OperationFacts) {
        let operation = try requireOperation(value, field: field)
        let (access, facts) = try access(caller, to: operation)
        try AccessRules.checkMayRead(what, access: access, operationID: value)
        return (operation, access, facts)
    }

    /// The facts of an operation that the invitation rules read.
    func facts(of operation: OperationRecord) throws -> OperationFacts {
        let id = operation.id!
        return OperationFacts(hostCountryID: operation.hostCountryID,
                              potentialContributorIDs: Set(try potentialContributors(operationID: id)),
                              contributions: try contributions(operationID: id).map(\.contribution))
    }
}
