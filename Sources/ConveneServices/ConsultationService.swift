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

    public init(backend: Backend) {
        self.backend = backend
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
        guard let meeting = try meeting(id: id),
              MeetingRules.maySee(caller, invited: try invitation(meetingID: id, partyID: caller.id) != nil)
        else { throw PublicID.meeting.notFound(value) }
        return meeting
    }

    /// The facts of an operation that the invitation rules read.
    func facts(of operation: OperationRecord) throws -> OperationFacts {
        let id = operation.id!
        return OperationFacts(hostCountryID: operation.hostCountryID,
                              potentialContributorIDs: Set(try potentialContributors(operationID: id)),
                              contributions: try contributions(operationID: id).map(\.contribution))
    }
}
