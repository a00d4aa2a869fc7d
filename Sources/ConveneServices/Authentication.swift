import ConveneDomain
import ConveneRPC
import ConveneStore
import SwiftProtobuf
import Foundation
import Logging

/// Maps the bearer token in a call's metadata to the calling party.
///
/// Every call looks the token's hash up in the store, so a revocation takes effect on
/// the next call. Tokens are never logged.
public struct Authenticator: Sendable {
    let store: any ConveneStore

    public init(store: any ConveneStore) {
        self.store = store
    }

    public static let metadataKey = "authorization"

    public func caller(_ metadata: Metadata) async throws -> Party {
        guard let header = metadata[Self.metadataKey] else {
            throw RPCError(.unauthenticated, "no credential: send metadata 'authorization: Bearer <token>'")
        }
        guard header.hasPrefix("Bearer "), header.count > 7 else {
            throw RPCError(.unauthenticated, "authorization metadata must be 'Bearer <token>'")
        }
        let hash = TokenHashing.hash(String(header.dropFirst(7)))
        let party: PartyRecord? = try await store.read { db in
            guard let credential = try db.credential(tokenHash: hash),
                  TokenHashing.constantTimeEquals(credential.tokenHash, hash),
                  credential.revokedAt == nil
            else { return nil }
            return try db.party(id: credential.partyID)
        }
        guard let party else {
            throw RPCError(.unauthenticated, "unknown or revoked credential")
        }
        return party.party
    }

    /// On first start: an administrator party and its credential, written to
    /// `DATA_DIR/admin.token` (mode 0600). Later starts leave both alone.
    public static func ensureAdministrator(store: any ConveneStore, dataDirectory: String, logger: Logger) async throws {
        let path = (dataDirectory as NSString).appendingPathComponent("admin.token")
        let exists = try await store.read { db in try db.allParties().contains { $0.party.isAdministrator } }
        guard !exists else { return }
        // The file first, then the commit: a crash in between leaves a file whose token a
        // later first start replaces, never an administrator nobody can log in as.
        let token = TokenHashing.newToken()
        guard FileManager.default.createFile(atPath: path, contents: Data((token + "\n").utf8),
                                             attributes: [.posixPermissions: 0o600]) else {
            throw RPCError(.internal, "cannot write \(path)")
        }
        let created: Bool = try await store.write { db in
            if try db.allParties().contains(where: { $0.party.isAdministrator }) { return false }
            let admin = try db.insert(PartyRecord(name: "Administrator", kind: .otherBody, roles: [.administrator]))
            _ = try db.insert(CredentialRecord(partyID: admin.id!, tokenHash: TokenHashing.hash(token),
                                               label: "created on first start", createdAt: SystemClock().nowMillis()))
            return true
        }
        guard created else { return }
        logger.notice("created the administrator credential", metadata: ["file": "\(path)"])
    }
}
