import ConveneDomain
import ConveneProtobuf
import ConveneProtos
import ConveneRPC
import ConveneStore
import SwiftProtobuf

/// Parties and credentials. Administrator only.
public struct AdministrationService: Sendable {
    let store: any ConveneStore
    let auth: Authenticator

    public init(store: any ConveneStore) {
        self.store = store
        self.auth = Authenticator(store: store)
    }

    func administrator(_ context: ServerCallContext) async throws -> Party {
        let caller = try await auth.caller(context.requestMetadata)
        guard caller.isAdministrator else {
            throw RPCError(.permissionDenied, "only an administrator may call \(context.method.description)")
        }
        return caller
    }

    public func register(with router: Router) throws {
        typealias M = AdministrationMethods
        try router.registerAsyncUnary(M.registerParty) {
            (request: Convene_Admin_V1_RegisterPartyRequest, context, _) -> Convene_Parties_V1_Party in
            _ = try await administrator(context)
            let name = try requireText(request.name, field: "name", max: 500)
            let kind = try request.kind.domain(field: "kind")
            let roles = try domainRoles(request.roles, field: "roles")
            do {
                return try await store.write { db in try db.insert(PartyRecord(name: name, kind: kind, roles: roles)).proto }
            } catch {
                throw storeError(error, duplicate: "a party named '\(name)'")
            }
        }
        try router.registerAsyncUnary(M.setRoles) {
            (request: Convene_Admin_V1_SetRolesRequest, context, _) -> Convene_Parties_V1_Party in
            _ = try await administrator(context)
            let id = try PublicID.party.parse(request.partyID, field: "party_id")
            let roles = try domainRoles(request.roles, field: "roles")
            return try await store.write { db in
                guard var party = try db.party(id: id) else { throw PublicID.party.notFound(request.partyID) }
                if roles.contains(.councilPresident),
                   let holder = try db.allParties().first(where: { $0.party.isPresident && $0.id != id }) {
                    throw RPCError(.failedPrecondition,
                        "roles: \(holder.name) holds the Council presidency; take it from them first (one President at a time, II.B.1)")
                }
                party = PartyRecord(id: id, name: party.name, kind: party.party.kind, roles: roles)
                try db.update(party)
                return party.proto
            }
        }
        try router.registerAsyncUnary(M.listParties) {
            (request: Convene_Admin_V1_ListPartiesRequest, context, _) -> Convene_Admin_V1_ListPartiesResponse in
            _ = try await administrator(context)
            let page = Page(after: try PageToken.after(request.pageToken), size: try PageToken.size(request.pageSize))
            let parties = try await store.read { db in try db.parties(page) }
            return .with {
                $0.parties = parties.map(\.proto)
                if parties.count == page.size, let last = parties.last?.id { $0.nextPageToken = String(last) }
            }
        }
        try router.registerAsyncUnary(M.issueCredential) {
            (request: Convene_Admin_V1_IssueCredentialRequest, context, _) -> Convene_Admin_V1_IssueCredentialResponse in
            _ = try await administrator(context)
            let partyID = try PublicID.party.parse(request.partyID, field: "party_id")
            let token = TokenHashing.newToken()
            let label = request.label
            let credential = try await store.write { db in
                guard try db.party(id: partyID) != nil else { throw PublicID.party.notFound(request.partyID) }
                return try db.insert(CredentialRecord(partyID: partyID, tokenHash: TokenHashing.hash(token),
                                                      label: label, createdAt: Clock.nowMillis()))
            }
            return .with {
                $0.credentialID = PublicID.credential.format(credential.id)
                $0.token = token
            }
        }
        try router.registerAsyncUnary(M.revokeCredential) {
            (request: Convene_Admin_V1_RevokeCredentialRequest, context, _) -> Convene_Admin_V1_RevokeCredentialResponse in
            _ = try await administrator(context)
            let id = try PublicID.credential.parse(request.credentialID, field: "credential_id")
            try await store.write { db in
                guard var credential = try db.credential(id: id) else { throw PublicID.credential.notFound(request.credentialID) }
                if credential.revokedAt == nil {
                    credential.revokedAt = Clock.nowMillis()
                    try db.update(credential)
                }
            }
            return Convene_Admin_V1_RevokeCredentialResponse()
        }
    }
}
