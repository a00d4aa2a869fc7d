import Logging
import NIOCore
import PostgresNIO

/// A leased connection used from a thread that may block (a thread of the store's pool, never an
/// event loop): each query is sent through the connection's event loop and waited for. This is
/// what lets the store's synchronous transaction bodies (`StoreReader`/`StoreWriter`, as GRDB
/// runs them for SQLite) run unchanged on PostgreSQL.
struct BlockingConnection {
    let connection: PostgresConnection
    let logger: Logger
    private var failures: Failures?

    init(connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// The first query that failed since `tracking()`, even if its caller went on (a transaction
    /// body may read with `try?`; PostgreSQL aborts the transaction all the same).
    final class Failures: @unchecked Sendable {
        // Used by one thread at a time: the one running the transaction.
        var first: (any Error)?
    }

    /// The same connection, remembering the first failure from now on.
    func tracking() -> BlockingConnection {
        var copy = self
        copy.failures = Failures()
        return copy
    }

    var firstFailure: (any Error)? { failures?.first }

    /// Runs one statement and collects its rows.
    @discardableResult
    func query(_ sql: String, _ values: [ColumnValue] = []) throws -> PostgresQueryResult {
        precondition(!connection.eventLoop.inEventLoop, "a store query must never block an event loop")
        // A query written to a closed channel would never be answered (nor failed).
        guard !connection.isClosed else { throw PostgresStoreError.unreachable("the connection is closed") }
        var bindings = PostgresBindings(capacity: values.count)
        for value in values { value.append(to: &bindings) }
        do {
            return try connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger).wait()
        } catch {
            if let failures, failures.first == nil { failures.first = error }
            throw error
        }
    }

    /// The first column of the first row as bytes (BYTEA), if there is a row.
    func bytes(_ sql: String, _ values: [ColumnValue] = []) throws -> [UInt8]? {
        guard let cell = try query(sql, values).rows.first?.first else { return nil }
        return Array(buffer: try cell.decode(ByteBuffer.self))
    }

    /// Rows as records (by column name).
    func records<Record: Decodable>(_ type: Record.Type, _ sql: String, _ values: [ColumnValue] = []) throws -> [Record] {
        try query(sql, values).rows.map { try RowDecoder.record(Record.self, from: $0) }
    }

    func record<Record: Decodable>(_ type: Record.Type, _ sql: String, _ values: [ColumnValue] = []) throws -> Record? {
        try query(sql, values).rows.first.map { try RowDecoder.record(Record.self, from: $0) }
    }

    /// The first column of every row.
    func column<Value: Decodable>(_ type: Value.Type, _ sql: String, _ values: [ColumnValue] = []) throws -> [Value] {
        try query(sql, values).rows.map { row in
            guard let cell = row.first else { throw ColumnMismatch(column: "", detail: "no column") }
            return try ColumnDecoding.value(Value.self, from: cell)
        }
    }

    /// How many rows an INSERT, UPDATE or DELETE changed.
    func execute(_ sql: String, _ values: [ColumnValue] = []) throws -> Int {
        try query(sql, values).metadata.rows ?? 0
    }
}
