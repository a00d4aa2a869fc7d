import ConveneStore

/// Plugin storage on PostgreSQL (what `SQLiteStore` offers ServerPluginServices), called
/// synchronously from plugin threads: each call is its own transaction on the calling thread.
///
/// A plugin call's commit keeps its optimistic concurrency across servers: the values it read
/// are compared inside a SERIALIZABLE transaction, so two servers committing calls that read
/// the same key cannot both win; the loser either finds the value changed (nil: the plugin host
/// runs the call again) or is aborted by PostgreSQL and retried here, and then finds it changed.
extension PostgresStore {
    public func syncRead<T>(_ body: (any StoreReader) throws -> T) throws -> T {
        try syncTransaction(.read) { try body($0) }
    }

    public func syncWrite<T>(_ body: (any StoreWriter) throws -> T) throws -> T {
        try syncTransaction(.write) { try body($0) }
    }

    public func pluginGet(plugin: String, key: [UInt8]) throws -> [UInt8]? {
        try syncTransaction(.read) { db in try db.pluginValue(plugin: plugin, key: key) }
    }

    public func pluginNext(plugin: String, prefix: [UInt8], after: [UInt8]?) throws -> [UInt8]? {
        try syncTransaction(.read) { db in
            let comparison = after == nil ? ">=" : ">"
            let key = try db.db.bytes(
                #"SELECT "key" FROM "pluginStorage" WHERE "plugin" = $1 AND "key" \#(comparison) $2 ORDER BY "key" LIMIT 1"#,
                [.text(plugin), .bytes(after ?? prefix)])
            guard let key, key.starts(with: prefix) else { return nil }
            return key
        }
    }

    public func pluginCommit(plugin: String, reads: [(key: [UInt8], value: [UInt8]?)],
                             writes: [(key: [UInt8], value: [UInt8]?)], events: [EventRecord]) throws -> [EventRecord]? {
        try syncTransaction(.write) { db in
            for (key, seen) in reads where try db.pluginValue(plugin: plugin, key: key) != seen {
                return nil
            }
            for (key, value) in writes {
                if let value {
                    try db.db.execute(#"""
                        INSERT INTO "pluginStorage" ("plugin", "key", "value") VALUES ($1, $2, $3)
                        ON CONFLICT ("plugin", "key") DO UPDATE SET "value" = EXCLUDED."value"
                        """#, [.text(plugin), .bytes(key), .bytes(value)])
                } else {
                    try db.db.execute(#"DELETE FROM "pluginStorage" WHERE "plugin" = $1 AND "key" = $2"#, [.text(plugin), .bytes(key)])
                }
            }
            return try events.map { try db.append($0) }
        }
    }
}

extension PostgresTransaction {
    func pluginValue(plugin: String, key: [UInt8]) throws -> [UInt8]? {
        try db.bytes(#"SELECT "value" FROM "pluginStorage" WHERE "plugin" = $1 AND "key" = $2"#, [.text(plugin), .bytes(key)])
    }
}
