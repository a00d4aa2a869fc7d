/// Plugin storage, in the server's database, and the synchronous transactions of plugin
/// threads (which may block; never an event loop). ServerPluginServices is its user.
/// One step of a plugin call's listing of its keys, as the call saw it: the first key after
/// `after` (from `prefix` when nil) under `prefix` was `next` (nil: none).
public typealias PluginListing = (prefix: [UInt8], after: [UInt8]?, next: [UInt8]?)

public protocol PluginStore: Sendable {
    /// A read transaction on the calling thread.
    func syncRead<T>(_ body: (any StoreReader) throws -> T) throws -> T
    /// A write transaction on the calling thread.
    func syncWrite<T>(_ body: (any StoreWriter) throws -> T) throws -> T
    func pluginGet(plugin: String, key: [UInt8]) throws -> [UInt8]?
    /// The first key of `plugin` after `after` (from `prefix` when nil) that starts with `prefix`.
    func pluginNext(plugin: String, prefix: [UInt8], after: [UInt8]?) throws -> [UInt8]?
    /// A plugin call's writes and events, in one transaction; returns the stored events, or nil
    /// (committing nothing) when a key the call read no longer holds the value it read, when a
    /// listing it made (`pluginNext` from `after` under `prefix`) no longer finds the key it
    /// found (one added, or removed, in between), or, for an event delivery (`position`), when
    /// the plugin's event position is no longer `position.from` (it becomes `position.to` in
    /// the same transaction).
    ///
    /// The plugin's stored bytes (`PluginStorageUsage`) are kept with its keys: a commit that
    /// adds to them past `storageLimit` (nil: no limit) commits nothing and throws
    /// `PluginStorageLimitExceeded`; one that adds nothing (deletes, smaller values) is never refused.
    func pluginCommit(plugin: String, reads: [(key: [UInt8], value: [UInt8]?)], listings: [PluginListing],
                      writes: [(key: [UInt8], value: [UInt8]?)], events: [EventRecord],
                      position: (from: Int64, to: Int64)?, storageLimit: Int64?) throws -> [EventRecord]?
    /// What `plugin`'s storage holds, counted as `PluginStorageUsage` counts it.
    func pluginStorageUsage(plugin: String) throws -> Int64

    /// The sequence of the last event `plugin` reacted to; a plugin never seen before starts
    /// at the log's current end (it reacts to events after its first load only). On a shared
    /// store the position is the cluster's: every server reads and moves the same one.
    func pluginEventPosition(plugin: String) throws -> Int64
    /// Events after `sequence` that services recorded (not plugins), of the given kinds
    /// ("*" for every kind), in order, at most `limit`. A later event is never visible
    /// before an earlier one.
    func domainEvents(after sequence: Int64, kinds: [String], limit: Int) throws -> [EventRecord]
    /// Whether this server is the one to deliver `plugin`'s events now: it holds the plugin's
    /// lease, taking it when free or expired, and keeps it `duration` longer. A store of one
    /// server always answers true.
    func holdPluginEventLease(plugin: String, for duration: Duration) throws -> Bool
    /// Gives the lease up (an unload, a shutdown) so that another server takes over at once.
    func releasePluginEventLease(plugin: String) throws

    /// Changes when a committed transaction changed credentials or parties, so that a cache of
    /// who a credential belongs to can tell it is stale; nil when other servers may change them
    /// unseen (a shared store): then nothing may be cached.
    var credentialsVersion: Int? { get }
}

extension PluginStore {
    /// A commit with no limit on the plugin's storage.
    public func pluginCommit(plugin: String, reads: [(key: [UInt8], value: [UInt8]?)], listings: [PluginListing],
                             writes: [(key: [UInt8], value: [UInt8]?)], events: [EventRecord],
                             position: (from: Int64, to: Int64)?) throws -> [EventRecord]? {
        try pluginCommit(plugin: plugin, reads: reads, listings: listings, writes: writes, events: events,
                         position: position, storageLimit: nil)
    }
}

/// How a plugin's storage is counted against its limit: each key and value's bytes, and
/// `entryOverhead` more per key (its row and index entry), so that tiny keys are bounded too.
public enum PluginStorageUsage {
    public static let entryOverhead: Int64 = 64

    /// What one key holding `value` adds (nil: the key is absent, nothing).
    public static func bytes(key: Int, value: Int?) -> Int64 {
        value.map { Int64(key) + Int64($0) + entryOverhead } ?? 0
    }
}

/// A plugin call's commit would have made the plugin's storage hold `bytes`, over its `limit`.
public struct PluginStorageLimitExceeded: Error, Equatable {
    public let plugin: String
    public let bytes: Int64
    public let limit: Int64

    public init(plugin: String, bytes: Int64, limit: Int64) {
        self.plugin = plugin
        self.bytes = bytes
        self.limit = limit
    }
}

/// A store as the server runs it: opened at start, closed at shutdown, with plugin storage, and,
/// when several servers share it, what the others commit.
public protocol ServerStore: ConveneStore, PluginStore {
    /// Readies the store (connects and migrates where that is not done on creation), then keeps
    /// `signals` told of what other servers commit, until `close`.
    func open(signals: StoreSignals) async throws
    func close() async
    /// Whether other servers may write the same store: then, for instance, an upload in progress
    /// may be another server's.
    var isShared: Bool { get }
    /// The schema migrations applied, in order (for tests and diagnostics).
    func appliedMigrations() async throws -> [String]
    /// Attachments (complete or not) and stored pieces (for tests and diagnostics).
    func attachmentCounts() async throws -> (attachments: Int, chunks: Int)
    /// Calls `observer` after every write: nil when it committed, the failure when the store
    /// could not take it (full, unavailable); never for a broken rule (a duplicate).
    func observeWrites(_ observer: @escaping @Sendable (StoreError?) -> Void)
}

/// Where a shared store reports what other servers committed.
public struct StoreSignals: Sendable {
    /// Watchers of an operation learn of events committed elsewhere (`EventBus.wake`).
    public var events: EventBus
    /// A credential was revoked (by any server): streams open with it end.
    public var revoked: @Sendable (Int64) -> Void
    /// Events were committed elsewhere (after `events` was woken): plugins' event deliveries
    /// look at the log again (the server delivering a plugin's events may not be the writer).
    public var eventsCommitted: @Sendable () -> Void

    public init(events: EventBus, revoked: @escaping @Sendable (Int64) -> Void,
                eventsCommitted: @escaping @Sendable () -> Void = {}) {
        self.events = events
        self.revoked = revoked
        self.eventsCommitted = eventsCommitted
    }
}
