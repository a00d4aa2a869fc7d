import ConveneDomain
import ConveneRPC
import ConveneStore
import Foundation

/// What the domain services work with: the store, the bus that hands committed events to
/// watchers, the credentials (and their revocations) and the time of day.
public struct Backend: Sendable {
    public let store: any ConveneStore
    public let events: EventBus
    public let clock: any WallClock
    public let revocations: Revocations
    let auth: Authenticator

    public init(store: any ConveneStore, events: EventBus, clock: any WallClock = SystemClock(),
                revocations: Revocations = Revocations()) {
        self.store = store
        self.events = events
        self.clock = clock
        self.revocations = revocations
        self.auth = Authenticator(store: store)
    }

    /// The authenticated caller, a party to the consultations: UNAUTHENTICATED without a valid
    /// credential, PERMISSION_DENIED for the administrator's (administration only).
    func caller(_ context: ServerCallContext) async throws -> Party {
        try await participant(context).party
    }

    /// The same, with the credential it used (for streams, which end when it is revoked).
    func participant(_ context: ServerCallContext) async throws -> AuthenticatedCaller {
        let caller = try await auth.authenticate(context.requestMetadata)
        try PartyRules.checkTakesPart(caller.party)
        return caller
    }

    /// Runs a stream's `body` to its end, unless `caller`'s credential is revoked first: then the
    /// call ends at once with UNAUTHENTICATED (and `body` is cancelled).
    func untilRevoked<T: Sendable>(_ caller: AuthenticatedCaller,
                                   _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let revoked = revocations.subscribe(caller.credentialID)
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask { [auth] in
                if try await auth.isRevoked(caller.credentialID) { throw Self.revokedError(caller.credentialID) }
                for await _ in revoked { throw Self.revokedError(caller.credentialID) }
                return nil  // cancelled: the body ended first
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let value = result { return value }
            }
            throw CancellationError()
        }
    }

    static func revokedError(_ credentialID: Int64) -> RPCError {
        RPCError(.unauthenticated, "credential \(PublicID.credential.format(credentialID)) was revoked; the stream ends")
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (any StoreReader) throws -> T) async throws -> T {
        try await store.read(body)
    }

    /// One transaction; the events it records are handed to watchers after the commit.
    func write<T: Sendable>(_ body: @escaping @Sendable (any StoreWriter, inout [EventRecord]) throws -> T) async throws -> T {
        try await store.write(publishingTo: events, body)
    }

    /// Now, in milliseconds since 1970.
    var now: Int64 { clock.nowMillis() }

    /// An event of `operationID` happening now, received by `audience` (the rule of the read
    /// method that shows its subject).
    func event(_ operationID: Int64, _ kind: OperationEventKind, subject: String, _ description: String,
               audience: EventAudience) -> EventRecord {
        EventRecord(operationID: operationID, kind: kind.rawValue, subjectID: subject, description: description,
                    meetingID: nil, time: now, audience: audience)
    }
}

/// Where the services read the time of day: the system's clock, or a test's manual one.
public protocol WallClock: Sendable {
    /// Milliseconds since 1970 (UTC).
    func nowMillis() -> Int64
}

public struct SystemClock: WallClock {
    public init() {}

    public func nowMillis() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
}
