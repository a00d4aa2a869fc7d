import Foundation
import GRDB

/// Plugins' durable event subscriptions: each plugin's position in the operation event
/// log, and the domain events after a position.
extension SQLiteStore {
    /// The sequence of the last event `plugin` reacted to; a plugin never seen before starts
    /// at the log's current end (it reacts to events after its first load only).
    public func pluginEventPosition(plugin: String) throws -> Int64 {
        try pool.write { db in
            if let position = try Int64.fetchOne(db, sql: "SELECT position FROM pluginEventPosition WHERE plugin = ?",
                                                 arguments: [plugin]) {
                return position
            }
            let end = try Int64.fetchOne(db, sql: "SELECT MAX(sequence) FROM event") ?? 0
            try db.execute(sql: "INSERT INTO pluginEventPosition (plugin, position) VALUES (?, ?)", arguments: [plugin, end])
            return end
        }
    }

    /// Events after `sequence` that services recorded (not plugins), of the given kinds
    /// ("*" for every kind), in order, at most `limit`.
    public func domainEvents(after sequence: Int64, kinds: [String], limit: Int) throws -> [EventRecord] {
        try pool.read { db in
            var request = EventRecord.filter(Column("sequence") > sequence)
                .filter(!Column("subjectID").like("plugin:%"))
            if !kinds.contains("*") { request = request.filter(kinds.contains(Column("kind"))) }
            return try request.order(Column("sequence")).limit(limit).fetchAll(db)
        }
    }

    /// One server owns the store: it always delivers.
    public func holdPluginEventLease(plugin: String, for duration: Duration) throws -> Bool { true }

    public func releasePluginEventLease(plugin: String) throws {}
}
