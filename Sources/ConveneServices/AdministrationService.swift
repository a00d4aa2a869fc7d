import ConveneDomain
import ConveneProtobuf
import ConveneProtos
import ConveneRPC
import ConveneStore
import SwiftProtobuf

/// Parties and credentials. Administrator only.
public struct AdministrationService: AdministrationServiceProtocol {
    let backend: Backend

    public init(backend: Backend) {
        self.backend = backend
    }

    func administrator(_ context: ServerCallContext) async throws {
        try PartyRules.checkAdministrator(try await backend.caller(context), calling: context.method.description)
    }

    public func registerParty(_ request: Convene_Admin_V1_RegisterPartyRequest,
                              context: ServerCallContext) async throws -> Convene_Parties_V1_Party {
        try await administrator(context)
        let name = try requireText(request.name, field: "name", max: 500)
        let kind = try request.kind.domain(field: "kind")
        let roles = try domainRoles(request.roles, field: "roles")
        do {
            return try await backend.store.write { db in try db.insert(PartyRecord(name: name, kind: kind, roles: roles)).proto }
        } catch {
            throw storeError(error, duplicate: "a party named '\(name)'")
        }
    }

    public func setRoles(_ request: Convene_Admin_V1_SetRolesRequest, context: ServerCallContext) async throws -> Convene_Parties_V1_Party {
        try await administrator(context)
        let id = try PublicID.party.parse(request.partyID, field: "party_id")
        let roles = try domainRoles(request.roles, field: "roles")
        return try await backend.store.write { db in
            guard let party = try db.party(id: id) else { throw PublicID.party.notFound(request.partyID) }
            let holder = try db.allParties().first { $0.party.isPresident && $0.id != id }
            try PartyRules.checkPresidency(roles: roles, holder: holder?.party)
            let updated = PartyRecord(id: id, name: party.name, kind: party.party.kind, roles: roles)
            try db.update(updated)
            return updated.proto
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
            guard try db.party(id: partyID) != nil else { throw PublicID.party.notFound(request.partyID) }
            return try db.insert(CredentialRecord(partyID: partyID, tokenHash: TokenHashing.hash(token),
                                                  label: request.label, createdAt: backend.now))
        }
        return .with {
            $0.credentialID = PublicID.credential.format(credential.id)
            $0.token = token
        }
    }

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
        return Convene_Admin_V1_RevokeCredentialResponse()
    }
}
