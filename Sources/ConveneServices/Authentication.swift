import ConveneDomain
import ConveneRPC
import ConveneStore
import SwiftProtobuf
import Foundation
import Logging

/// A party authenticated by one of its credentials.
public struct AuthenticatedCaller: Sendable {
    public let party: Party
    /// The credential the call carries (a revocation of it ends the call's stream).
    public let credentialID: Int64
}

/// Maps the bearer token in a call's metadata to the calling party.
///
/// Every call looks the token's hash up in the store, so a revocation takes effect on
/// the next call (and ends the streams open with it, see `Revocations`). Tokens are never logged.
public struct Authenticator: Sendable {
    let store: any ConveneStore

    public init(store: any ConveneStore) {
        self.store = store
    }

    public static let metadataKey = "authorization"

    /// The call's one credential: nil when it carries none; a call that carries two (a proxy
    /// adding its own, a client sending another) is refused rather than served as whichever
    /// came first.
    public static func credential(in metadata: Metadata) throws(RPCError) -> String? {
        var found: String?
        for entry in metadata.entries where entry.key == metadataKey {
            guard found == nil, case .string(let value) = entry.value else {
                throw RPCError(.unauthenticated, "the call carries more than one 'authorization' value; send exactly one 'authorization: Bearer <token>'")
            }
            found = value
        }
        return found
    }

    public func caller(_ metadata: Metadata) async throws -> Party {
        try await authenticate(metadata).party
    }

    public func authenticate(_ metadata: Metadata) async throws -> AuthenticatedCaller {
        let hash = try Self.tokenHash(metadata)
        return try await store.read { db in try Self.caller(tokenHash: hash, db) }
    }

    /// The hash of the bearer token in `metadata`; UNAUTHENTICATED when there is none.
    public static func tokenHash(_ metadata: Metadata) throws -> String {
        guard let header = try credential(in: metadata) else {
            throw RPCError(.unauthenticated, "no credential: send metadata 'authorization: Bearer <token>'")
        }
        guard header.hasPrefix("Bearer "), header.count > 7 else {
            throw RPCError(.unauthenticated, "authorization metadata must be 'Bearer <token>'")
        }
        return TokenHashing.hash(String(header.dropFirst(7)))
    }

    /// The party and credential of a live credential with `hash`; UNAUTHENTICATED when none is.
    public static func caller(tokenHash hash: String, _ db: any StoreReader) throws -> AuthenticatedCaller {
        let (party, credentialID) = try live(tokenHash: hash, db)
        return AuthenticatedCaller(party: party.party, credentialID: credentialID)
    }

    /// The party a live credential with `hash` belongs to; UNAUTHENTICATED when none does.
    public static func party(tokenHash hash: String, _ db: any StoreReader) throws -> PartyRecord {
        try live(tokenHash: hash, db).party
    }

    private static func live(tokenHash hash: String, _ db: any StoreReader) throws -> (party: PartyRecord, credentialID: Int64) {
        guard let credential = try db.credential(tokenHash: hash),
              TokenHashing.constantTimeEquals(credential.tokenHash, hash),
              credential.revokedAt == nil, let id = credential.id,
              let party = try db.party(id: credential.partyID)
        else { throw RPCError(.unauthenticated, "unknown or revoked credential") }
        return (party, id)
    }

    /// Whether a credential has been revoked (or no longer exists).
    func isRevoked(_ credentialID: Int64) async throws -> Bool {
        try await store.read { db in
            guard let credential = try db.credential(id: credentialID) else { return true }
            return credential.revokedAt != nil
        }
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
        guard created else {
            // Another server sharing the store created it first: this token was never stored.
            if (try? String(contentsOfFile: path, encoding: .utf8)) == token + "\n" { try? FileManager.default.removeItem(atPath: path) }
            return
        }
        logger.notice("created the administrator credential", metadata: ["file": "\(path)"])
    }
}

/// Tells the streams open with a credential that it was revoked, so that they end at the
/// revocation rather than at their next call.
public final class Revocations: Sendable {
    private struct State {
        var waiters: [Int: (credentialID: Int64, continuation: AsyncStream<Void>.Continuation)] = [:]
        var next = 0
    }

    private let state = Locked(State())

    public init() {}

    /// Called after a revocation is committed (by this server, or by another sharing the store).
    public func revoked(_ credentialID: Int64) {
        let waiting = state.withLock { state in state.waiters.values.filter { $0.credentialID == credentialID } }
        for waiter in waiting { waiter.continuation.yield() }
    }

    /// A stream that yields when the credential is revoked; subscribe before checking the store, so
    /// that no revocation falls between the two.
    func subscribe(_ credentialID: Int64) -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id = state.withLock { state in
            defer { state.next += 1 }
            state.waiters[state.next] = (credentialID, continuation)
            return state.next
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.waiters.removeValue(forKey: id) }
        }
        return stream
    }
}
