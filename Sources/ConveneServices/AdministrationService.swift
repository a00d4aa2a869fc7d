import ConveneDomain
import ConveneProtobuf
import ConveneProtos
import ConveneRPC
import ConveneStore
import SwiftProtobuf

/// Parties, their roles and credentials, and the Council presidency's terms. Administrator only
/// (and the administrator's credential serves for nothing else).
public struct AdministrationService: AdministrationServiceProtocol {
    let backend: Backend

    public init(backend: Backend) {
        self.backend = backend
    }

    func administrator(_ context: ServerCallContext) async throws {
        try PartyRules.checkAdministrator(try await backend.auth.caller(context.requestMetadata), calling: context.method.description)
    }

    public func registerParty(_ request: Convene_Admin_V1_RegisterPartyRequest,
                              context: ServerCallContext) async throws -> Convene_Parties_V1_Party {
        try await administrator(context)
        let name = try requireText(request.name, field: "name", max: 500)
        let kind = try request.kind.domain(field: "kind")
        let roles = try domainRoles(request.roles, field: "roles")
        try PartyRules.checkName(name)
        try PartyRules.checkRoles(roles, kind: kind)
        do {
            return try await backend.store.write { [backend] db in
                try PartyRules.checkPresidency(roles: roles, holder: try db.president()?.party)
                let party = try db.insert(PartyRecord(name: name, kind: kind, roles: roles))
                if roles.contains(.councilPresident) { try db.presidencyChanged(to: party.id!, at: backend.now) }
                if party.party.isCouncilMember || party.party.isSecretariat { try db.inviteWhomEveryOperationNowRequires(now: backend.now) }
                return party.proto
            }
        } catch {
            throw storeError(error, duplicate: "a party named '\(name)'")
        }
    }

    public func setRoles(_ request: Convene_Admin_V1_SetRolesRequest, context: ServerCallContext) async throws -> Convene_Parties_V1_Party {
        try await administrator(context)
        let id = try PublicID.party.parse(request.partyID, field: "party_id")
        let roles = try domainRoles(request.roles, field: "roles")
        return try await backend.store.write { [backend] db in
            guard let party = try db.party(id: id) else { throw PublicID.party.notFound(request.partyID) }
            try PartyRules.checkAdministrable(party.party, partyText: request.partyID, "its roles")
            try PartyRules.checkRoles(roles, kind: party.party.kind)
            let holder = try db.president()
            try PartyRules.checkPresidency(roles: roles, holder: holder?.id == id ? nil : holder?.party)
            let updated = PartyRecord(id: id, name: party.name, kind: party.party.kind, roles: roles)
            try db.update(updated)
            switch (party.party.isPresident, roles.contains(.councilPresident)) {
            case (false, true): try db.presidencyChanged(to: id, at: backend.now)
            case (true, false): try db.presidencyChanged(to: nil, at: backend.now)
            default: break
            }
            if updated.party.isCouncilMember != party.party.isCouncilMember || updated.party.isSecretariat != party.party.isSecretariat {
                try db.withdrawInvitationsOfRolesLost(by: updated.party, now: backend.now)
                try db.inviteWhomEveryOperationNowRequires(now: backend.now)
            }
            return updated.proto
        }
    }

    /// II.B.1: the presidency passes from its holder (who stays a Council member) to another
    /// member of the Council, in one transaction, recorded with its date.
    public func passPresidency(_ request: Convene_Admin_V1_PassPresidencyRequest,
                               context: ServerCallContext) async throws -> Convene_Admin_V1_PresidencyTerm {
        try await administrator(context)
        let id = try PublicID.party.parse(request.partyID, field: "party_id")
        return try await backend.store.write { [backend] db in
            guard let party = try db.party(id: id) else { throw PublicID.party.notFound(request.partyID) }
            try PartyRules.checkMayReceivePresidency(party.party, partyText: request.partyID)
            let now = backend.now
            if let holder = try db.president() {
                var roles = holder.party.roles
                roles.remove(.councilPresident)
                roles.insert(.councilMember)
                try db.update(PartyRecord(id: holder.id, name: holder.name, kind: holder.party.kind, roles: roles))
            }
            var roles = party.party.roles
            roles.remove(.councilMember)
            roles.insert(.councilPresident)
            try db.update(PartyRecord(id: id, name: party.name, kind: party.party.kind, roles: roles))
            let term = try db.presidencyChanged(to: id, at: now)
            return term.proto(name: party.name)
        }
    }

    public func listPresidencies(_ request: Convene_Admin_V1_ListPresidenciesRequest,
                                 context: ServerCallContext) async throws -> Convene_Admin_V1_ListPresidenciesResponse {
        try await administrator(context)
        return try await backend.read { db in
            let names = Dictionary(uniqueKeysWithValues: try db.allParties().map { ($0.id!, $0.name) })
            let terms = try db.presidencies().map { $0.proto(name: names[$0.partyID] ?? "") }
            return .with { $0.terms = terms }
        }
    }

    public func listParties(_ request: Convene_Admin_V1_ListPartiesRequest,
                            context: ServerCallContext) async throws -> Convene_Admin_V1_ListPartiesResponse {
        try await administrator(context)
        let page = Page(after: try PageToken.after(request.pageToken), size: try PageToken.size(request.pageSize))
        let parties = try await backend.read { db in try db.parties(page) }
        return .with {
            $0.parties = parties.map(\.proto)
            $0.nextPageToken = PageToken.next(after: parties.last?.id, count: parties.count, size: page.size)
        }
    }

    public func issueCredential(_ request: Convene_Admin_V1_IssueCredentialRequest,
                                context: ServerCallContext) async throws -> Convene_Admin_V1_IssueCredentialResponse {
        try await administrator(context)
        let partyID = try PublicID.party.parse(request.partyID, field: "party_id")
        let token = TokenHashing.newToken()
        let credential = try await backend.store.write { [backend] db in
            guard let party = try db.party(id: partyID) else { throw PublicID.party.notFound(request.partyID) }
            try PartyRules.checkAdministrable(party.party, partyText: request.partyID, "a credential for it")
            return try db.insert(CredentialRecord(partyID: partyID, tokenHash: TokenHashing.hash(token),
                                                  label: request.label, createdAt: backend.now))
        }
        return .with {
            $0.credentialID = PublicID.credential.format(credential.id)
            $0.token = token
        }
    }

    /// Refused on the next call, and the streams open with it end now.
    public func revokeCredential(_ request: Convene_Admin_V1_RevokeCredentialRequest,
                                 context: ServerCallContext) async throws -> Convene_Admin_V1_RevokeCredentialResponse {
        try await administrator(context)
        let id = try PublicID.credential.parse(request.credentialID, field: "credential_id")
        try await backend.store.write { [backend] db in
            guard var credential = try db.credential(id: id) else { throw PublicID.credential.notFound(request.credentialID) }
            if credential.revokedAt == nil {
                credential.revokedAt = backend.now
                try db.update(credential)
            }
        }
        backend.revocations.revoked(id)
        return Convene_Admin_V1_RevokeCredentialResponse()
    }
}

extension StoreReader {
    /// The party holding the Council presidency, if any.
    func president() throws -> PartyRecord? {
        try allParties().first { $0.party.isPresident }
    }
}

extension StoreWriter {
    /// Ends the running term of the presidency, if any, and starts `partyID`'s (none: the
    /// presidency is vacant).
    @discardableResult
    func presidencyChanged(to partyID: Int64?, at time: Int64) throws -> PresidencyRecord {
        for var term in try presidencies() where term.endedAt == nil {
            term.endedAt = time
            try update(term)
        }
        guard let partyID else { return PresidencyRecord(partyID: 0, startedAt: time) }
        return try insert(PresidencyRecord(partyID: partyID, startedAt: time))
    }
}

extension PresidencyRecord {
    func proto(name: String) -> Convene_Admin_V1_PresidencyTerm {
        .with {
            $0.partyID = PublicID.party.format(partyID)
            $0.partyName = name
            $0.startTime = Google_Protobuf_Timestamp(millis: startedAt)
            if let endedAt { $0.endTime = Google_Protobuf_Timestamp(millis: endedAt) }
        }
    }
}
