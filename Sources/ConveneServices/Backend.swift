import ConveneDomain
import ConveneRPC
import ConveneStore
import Foundation

/// What the domain services work with: the store, the bus that hands committed events to
/// watchers, the credentials and the time of day.
public struct Backend: Sendable {
    public let store: any ConveneStore
    public let events: EventBus
    public let clock: any WallClock
    let auth: Authenticator

    public init(store: any ConveneStore, events: EventBus, clock: any WallClock = SystemClock()) {
        self.store = store
        self.events = events
        self.clock = clock
        self.auth = Authenticator(store: store)
    }

    /// The authenticated caller; UNAUTHENTICATED without a valid credential.
    func caller(_ context: ServerCallContext) async throws -> Party {
        try await auth.caller(context.requestMetadata)
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

    /// An event of `operationID` happening now.
    func event(_ operationID: Int64, _ kind: String, subject: String, _ description: String,
               meetingID: Int64? = nil) -> EventRecord {
        EventRecord(operationID: operationID, kind: kind, subjectID: subject, description: description,
                    meetingID: meetingID, time: now)
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
