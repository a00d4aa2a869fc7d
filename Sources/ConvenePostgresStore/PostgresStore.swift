import ConveneStore
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PostgresNIO

/// The store on PostgreSQL, for one server or several sharing a database.
///
/// The services' transaction bodies are synchronous (`StoreReader`/`StoreWriter`, as GRDB runs
/// them for SQLite). Here each body runs on a thread of the store's own pool, with a connection
/// leased from `ConnectionPool`, and each of its queries is sent through that connection's
/// event loop and waited for on the pool thread: no event loop ever waits, no wait depends on
/// a Swift concurrency task, and the services and the domain stay as they are (see
/// ARCHITECTURE.md, "Domain, store, services").
///
/// Writes run SERIALIZABLE: every rule a service checks in its transaction holds as if the
/// transactions of every server ran one after another; one that PostgreSQL aborts to keep that
/// promise (serialization failure, deadlock) is run again here, up to `maximumAttempts`, so a
/// client never sees it. Reads run REPEATABLE READ READ ONLY: one snapshot, as SQLite's readers.
public final class PostgresStore: ServerStore {
    public let configuration: PostgresConfiguration
    let connections: ConnectionPool
    let threads: NIOThreadPool
    let logger: Logger
    private let tasks = NIOLockedValueBox<[Task<Void, Never>]>([])
    /// Transactions running, and whether the store is closing (then none starts).
    private let activity = NIOLockedValueBox((running: 0, closing: false))
    /// Times a transaction is run before a conflict is reported (as UNAVAILABLE).
    public let maximumAttempts: Int
    /// Attempts a write makes optimistically (reading alongside other writers) before it runs
    /// holding the event log's lock from its start.
    static let optimisticAttempts = 3
    /// Told of each transaction run again after a conflict (the server's metrics).
    private let retryObserver = NIOLockedValueBox<(@Sendable () -> Void)?>(nil)
    private let writeObservers = NIOLockedValueBox<[@Sendable (StoreError?) -> Void]>([])
    /// Who this server is when it holds a plugin's event delivery lease (host, process, store).
    public let leaseHolder = "\(ProcessInfo.processInfo.hostName)/\(getpid())/\(UUID().uuidString.prefix(8))"

    public init(configuration: PostgresConfiguration, logger: Logger, maximumAttempts: Int = 30) {
        self.configuration = configuration
        self.maximumAttempts = maximumAttempts
        self.logger = logger
        connections = ConnectionPool(configuration: configuration, logger: logger)
        threads = NIOThreadPool(numberOfThreads: max(configuration.maximumConnections, 1))
        threads.start()
    }

    deinit {
        for task in tasks.withLockedValue({ $0 }) { task.cancel() }
        connections.close()
        threads.shutdownGracefully { _ in }
    }

    public var isShared: Bool { true }

    /// Calls `body` each time a transaction is run again after a serialization failure or a
    /// deadlock (the client never sees those: they count in `convene_store_retries_total`).
    public func observeRetries(_ body: @escaping @Sendable () -> Void) {
        retryObserver.withLockedValue { $0 = body }
    }

    /// Migrates (one server at a time: an advisory lock), then listens for other servers' commits.
    public func open(signals: StoreSignals) async throws {
        try await migrate()
        let listener = PostgresListener(configuration: configuration, logger: logger, signals: signals)
        let task = Task { await listener.run() }
        tasks.withLockedValue { $0.append(task) }
        try await listener.waitUntilListening()
    }

    /// Lets running transactions finish (up to 10 s), then stops listening and closes the pool's
    /// connections. A transaction asked for afterwards fails (UNAVAILABLE).
    public func close() async {
        activity.withLockedValue { $0.closing = true }
        for _ in 0..<1_000 where activity.withLockedValue({ $0.running }) > 0 {
            try? await Task.sleep(for: .milliseconds(10))
        }
        let running = tasks.withLockedValue { tasks in defer { tasks = [] }; return tasks }
        for task in running { task.cancel() }
        for task in running { await task.value }
        connections.close()
        try? await threads.shutdownGracefully()
    }

    // MARK: ConveneStore

    public func read<T: Sendable>(_ body: @escaping @Sendable (any StoreReader) throws -> T) async throws -> T {
        try await transaction(.read) { try body($0) }
    }

    public func write<T: Sendable>(_ body: @escaping @Sendable (any StoreWriter) throws -> T) async throws -> T {
        do {
            let result = try await transaction(.write) { try body($0) }
            reportWrite(nil)
            return result
        } catch let error as StoreError {
            if case .unavailable = error { reportWrite(error) }
            throw error
        }
    }

    /// Calls `observer` after every write: nil when it committed, the failure when the
    /// database could not take it.
    public func observeWrites(_ observer: @escaping @Sendable (StoreError?) -> Void) {
        writeObservers.withLockedValue { $0.append(observer) }
    }

    private func reportWrite(_ outcome: StoreError?) {
        for observer in writeObservers.withLockedValue({ $0 }) { observer(outcome) }
    }

    // MARK: Transactions

    enum Kind {
        case read, write, migration
        /// One statement that is atomic by itself (an upsert): READ COMMITTED, never aborted
        /// for a conflict.
        case statement

        var begin: String {
            switch self {
            case .read: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
            case .write: "BEGIN ISOLATION LEVEL SERIALIZABLE"
            case .migration, .statement: "BEGIN ISOLATION LEVEL READ COMMITTED"
            }
        }
    }

    /// Runs `body` in one transaction on a thread of the pool, again when PostgreSQL aborts it
    /// for a conflict with a concurrent one.
    func transaction<T: Sendable>(_ kind: Kind, _ body: @escaping @Sendable (PostgresTransaction) throws -> T) async throws -> T {
        try enter()
        defer { leave() }
        var attempt = 1
        while true {
            do {
                return try await threads.runIfActive { [self, attempt] in try leased(kind, attempt: attempt, body) }
            } catch let error as PostgresStoreError where error.isConflict && attempt < maximumAttempts {
                try await Task.sleep(for: Self.backoff(attempt))
                attempt += 1
                retryObserver.withLockedValue { $0 }?()
            } catch {
                throw Self.storeError(error, attempts: attempt)
            }
        }
    }

    /// The same from a thread that may block (a plugin's), run on that thread.
    func syncTransaction<T>(_ kind: Kind, _ body: (PostgresTransaction) throws -> T) throws -> T {
        try enter()
        defer { leave() }
        var attempt = 1
        while true {
            do {
                return try leased(kind, attempt: attempt, body)
            } catch let error as PostgresStoreError where error.isConflict && attempt < maximumAttempts {
                Thread.sleep(forTimeInterval: Double(Self.backoff(attempt).components.attoseconds) / 1e18)
                attempt += 1
                retryObserver.withLockedValue { $0 }?()
            } catch {
                throw Self.storeError(error, attempts: attempt)
            }
        }
    }

    /// One attempt: a connection of the pool, the transaction on it, the connection back.
    private func leased<T>(_ kind: Kind, attempt: Int, _ body: (PostgresTransaction) throws -> T) throws -> T {
        let connection = try connections.lease()
        var broken = false
        defer { connections.release(connection, broken: broken) }
        return try Self.run(kind, on: BlockingConnection(connection: connection, logger: logger),
                            exclusive: kind == .write && attempt > Self.optimisticAttempts, broken: &broken, body)
    }

    private func enter() throws {
        let open = activity.withLockedValue { activity in
            if !activity.closing { activity.running += 1 }
            return !activity.closing
        }
        guard open else { throw StoreError.unavailable(cause: "the store is closed (the server is stopping)") }
    }

    private func leave() {
        activity.withLockedValue { $0.running -= 1 }
    }

    /// BEGIN, the body, COMMIT; ROLLBACK on any failure. A query that failed inside the body
    /// fails the transaction even if the body went on (PostgreSQL answers a COMMIT of an
    /// aborted transaction with ROLLBACK, not an error: that is checked too).
    /// `broken` is set when the connection cannot be used again (no ROLLBACK went through).
    static func run<T>(_ kind: Kind, on db: BlockingConnection, exclusive: Bool = false, broken: inout Bool,
                       _ body: (PostgresTransaction) throws -> T) throws -> T {
        let tracked = db.tracking()
        do {
            try tracked.query(kind.begin)
            if exclusive {
                // A write that conflicted again and again waits for the event log's lock before
                // it reads: the writers it raced append (and so commit) only after it, so it no
                // longer finds its reads changed, however many servers write one operation.
                try tracked.query("SELECT pg_advisory_xact_lock($1)", [.integer(PostgresSchema.eventLock)])
            }
            let result = try body(PostgresTransaction(db: tracked))
            if let failure = tracked.firstFailure { throw failure }
            let commit = try tracked.query("COMMIT")
            guard commit.metadata.command == "COMMIT" else {
                throw PostgresStoreError.classify(tracked.firstFailure) ?? PostgresStoreError.rolledBack
            }
            return result
        } catch {
            if (try? db.query("ROLLBACK")) == nil { broken = true }  // the pool closes it and opens another
            throw PostgresStoreError.classify(tracked.firstFailure) ?? PostgresStoreError.classify(error) ?? error
        }
    }

    /// Waits a little longer after each conflict, with jitter so that racing servers part.
    static func backoff(_ attempt: Int) -> Duration {
        .microseconds(Int64.random(in: 500...(1_000 << min(attempt, 7))))
    }

    /// What the services see: the store's errors, whatever else as it is.
    static func storeError(_ error: any Error, attempts: Int) -> any Error {
        switch error {
        case let error as PostgresStoreError: error.storeError(attempts: attempts)
        case let error as PSQLError: PostgresStoreError.classify(error)?.storeError(attempts: attempts) ?? error
        default: error
        }
    }

    // MARK: Migrations

    /// Applies the migrations not yet applied, in one transaction under an advisory lock: servers
    /// starting at once take turns, and the later ones find the schema done.
    func migrate() async throws {
        let applied = try await transaction(.migration) { db in
            try db.db.query("SELECT pg_advisory_xact_lock($1)", [.integer(PostgresSchema.migrationLock)])
            try db.db.query("""
                CREATE TABLE IF NOT EXISTS "schemaMigration" ("name" TEXT PRIMARY KEY, "appliedAt" TIMESTAMPTZ NOT NULL DEFAULT now())
                """)
            let done = Set(try db.db.column(String.self, #"SELECT "name" FROM "schemaMigration""#))
            var applied: [String] = []
            for migration in PostgresSchema.migrations where !done.contains(migration.name) {
                for statement in migration.statements { try db.db.query(statement) }
                try db.db.query(#"INSERT INTO "schemaMigration" ("name") VALUES ($1)"#, [.text(migration.name)])
                applied.append(migration.name)
            }
            return applied
        }
        if !applied.isEmpty { logger.notice("migrated the database", metadata: ["applied": "\(applied)"]) }
    }

    /// The migrations applied, in order (for tests and diagnostics).
    public func appliedMigrations() async throws -> [String] {
        try await transaction(.read) { db in
            try db.db.column(String.self, #"SELECT "name" FROM "schemaMigration" ORDER BY "appliedAt", "name""#)
        }
    }

    /// Attachments (complete or not) and stored pieces, for tests and diagnostics.
    public func attachmentCounts() async throws -> (attachments: Int, chunks: Int) {
        try await transaction(.read) { db in
            (try db.db.column(Int.self, #"SELECT COUNT(*) FROM "attachment""#).first ?? 0,
             try db.db.column(Int.self, #"SELECT COUNT(*) FROM "attachmentChunk""#).first ?? 0)
        }
    }
}


public enum PostgresStoreError: Error, CustomStringConvertible, Sendable {
    /// PostgreSQL aborted the transaction to keep it serializable (40001) or to break a deadlock
    /// (40P01): run it again.
    case conflict(String)
    /// A unique key is taken (23505), by the named constraint or index.
    case duplicate(constraint: String)
    /// An update found no row with the record's key.
    case recordNotFound(table: String)
    /// The commit did not happen (PostgreSQL rolled the transaction back).
    case rolledBack
    /// The database cannot be reached.
    case unreachable(String)
    /// PostgreSQL refused a statement for another reason (SQLSTATE and its message; never the
    /// statement's values, which may be secrets).
    case failed(String)

    var isConflict: Bool {
        if case .conflict = self { return true }
        if case .rolledBack = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .conflict(let message): "conflict with a concurrent transaction: \(message)"
        case .duplicate(let constraint): "duplicate key (\(constraint))"
        case .recordNotFound(let table): "no \(table) row with the record's key"
        case .rolledBack: "the transaction was rolled back"
        case .unreachable(let message): "the database is unreachable: \(message)"
        case .failed(let message): "PostgreSQL refused a statement: \(message)"
        }
    }

    /// A PostgreSQL failure the store reports as its own; nil for others (and for nil).
    static func classify(_ error: (any Error)?) -> PostgresStoreError? {
        if let error = error as? PostgresStoreError { return error }
        guard let error = error as? PSQLError else { return nil }
        switch error.code {
        case .server:
            let state = error.serverInfo?[.sqlState] ?? ""
            let message = error.serverInfo?[.message] ?? state
            switch state {
            case "40001", "40P01": return .conflict(message)
            case "23505": return .duplicate(constraint: error.serverInfo?[.constraintName] ?? "")
            default: return .failed("\(state) \(message)")
            }
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .poolClosed, .sslUnsupported,
             .failedToAddSSLHandler:
            return .unreachable("\(error.code)\(error.underlying.map { ": \($0)" } ?? "")")
        default:
            return nil
        }
    }

    /// As the services know store errors.
    func storeError(attempts: Int) -> any Error {
        switch self {
        case .duplicate(let constraint) where constraint == PostgresSchema.onePresidentIndex:
            StoreError.ruleViolated(StoreError.onePresidentMessage)
        case .duplicate: StoreError.duplicate
        case .conflict, .rolledBack:
            StoreError.unavailable(cause: "the database kept refusing the transaction for conflicts with concurrent ones (\(attempts) attempts)")
        case .unreachable(let message): StoreError.unavailable(cause: "the database is unreachable: \(message)")
        case .recordNotFound, .failed: self
        }
    }
}
