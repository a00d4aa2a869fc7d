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
        let hash = try Self.tokenHash(metadata)
        let party = try await store.read { db in try Self.party(tokenHash: hash, db) }
        return party.party
    }

    /// The hash of the bearer token in `metadata`; UNAUTHENTICATED when there is none.
    public static func tokenHash(_ metadata: Metadata) throws -> String {
        guard let header = metadata[metadataKey] else {
            throw RPCError(.unauthenticated, "no credential: send metadata 'authorization: Bearer <token>'")
        }
        guard header.hasPrefix("Bearer "), header.count > 7 else {
            throw RPCError(.unauthenticated, "authorization metadata must be 'Bearer <token>'")
        }
        return TokenHashing.hash(String(header.dropFirst(7)))
    }

    /// The party a live credential with `hash` belongs to; UNAUTHENTICATED when none does.
    public static func party(tokenHash hash: String, _ db: any StoreReader) throws -> PartyRecord {
        guard let credential = try db.credential(tokenHash: hash),
              TokenHashing.constantTimeEquals(credential.tokenHash, hash),
              credential.revokedAt == nil,
              let party = try db.party(id: credential.partyID)
        else { throw RPCError(.unauthenticated, "unknown or revoked credential") }
        return party
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
                                               label: "created on first start", createdAt: Clock.nowMillis()))
            return true
        }
        guard created else { return }
        logger.notice("created the administrator credential", metadata: ["file": "\(path)"])
    }
}

enum Clock {
    static func nowMillis() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
}
