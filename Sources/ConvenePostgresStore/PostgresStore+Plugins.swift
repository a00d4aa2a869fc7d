import ConveneStore

/// Plugin storage and event subscriptions on PostgreSQL (what `SQLiteStore` offers
/// ServerPluginServices), called synchronously from plugin threads: each call is its own
/// transaction on the calling thread.
///
/// A plugin call's commit keeps its optimistic concurrency across servers: the values it read
/// (and, for an event delivery, the plugin's position) are compared inside a SERIALIZABLE
/// transaction, so two servers committing calls that read the same key, or reacting to the same
/// event, cannot both win; the loser either finds the value changed (nil: the plugin host runs
/// the call again, or moves on past the event) or is aborted by PostgreSQL and retried here, and
/// then finds it changed. Which server delivers a plugin's events at all is decided by a lease.
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
        try syncTransaction(.read) { db in try db.pluginNextKey(plugin: plugin, prefix: prefix, after: after) }
    }

    public func pluginCommit(plugin: String, reads: [(key: [UInt8], value: [UInt8]?)], listings: [PluginListing] = [],
                             writes: [(key: [UInt8], value: [UInt8]?)], events: [EventRecord],
                             position: (from: Int64, to: Int64)? = nil, storageLimit: Int64? = nil) throws -> [EventRecord]? {
        try syncTransaction(.write) { db in
            for (key, seen) in reads where try db.pluginValue(plugin: plugin, key: key) != seen {
                return nil
            }
            for listing in listings
            where try db.pluginNextKey(plugin: plugin, prefix: listing.prefix, after: listing.after) != listing.next {
                return nil
            }
            if let position {
                let moved = try db.db.execute(
                    #"UPDATE "pluginEventPosition" SET "position" = $1 WHERE "plugin" = $2 AND "position" = $3"#,
                    [.integer(position.to), .text(plugin), .integer(position.from)])
                if moved != 1 { return nil }
            }
            var added: Int64 = 0
            for (key, value) in writes {
                let before = try db.db.column(Int64.self, #"""
                    SELECT octet_length("value")::BIGINT FROM "pluginStorage" WHERE "plugin" = $1 AND "key" = $2
                    """#, [.text(plugin), .bytes(key)]).first
                if let value {
                    try db.db.execute(#"""
                        INSERT INTO "pluginStorage" ("plugin", "key", "value") VALUES ($1, $2, $3)
                        ON CONFLICT ("plugin", "key") DO UPDATE SET "value" = EXCLUDED."value"
                        """#, [.text(plugin), .bytes(key), .bytes(value)])
                } else {
                    try db.db.execute(#"DELETE FROM "pluginStorage" WHERE "plugin" = $1 AND "key" = $2"#, [.text(plugin), .bytes(key)])
                }
                added += PluginStorageUsage.bytes(key: key.count, value: value?.count)
                    - PluginStorageUsage.bytes(key: key.count, value: before.map { Int($0) })
            }
            if added != 0 {
                // The plugin's row is one every commit that changes its storage updates: on a
                // shared store, two servers' commits meet there (one waits, or is retried).
                let bytes = try db.db.column(Int64.self, #"""
                    INSERT INTO "pluginStorageUsage" AS "usage" ("plugin", "bytes") VALUES ($1, $2)
                    ON CONFLICT ("plugin") DO UPDATE SET "bytes" = "usage"."bytes" + EXCLUDED."bytes" RETURNING "bytes"
                    """#, [.text(plugin), .integer(added)]).first ?? added
                if added > 0, let storageLimit, bytes > storageLimit {
                    throw PluginStorageLimitExceeded(plugin: plugin, bytes: bytes, limit: storageLimit)
                }
            }
            return try events.map { try db.append($0) }
        }
    }

    public func pluginStorageUsage(plugin: String) throws -> Int64 {
        try syncTransaction(.read) { db in
            try db.db.column(Int64.self, #"SELECT "bytes" FROM "pluginStorageUsage" WHERE "plugin" = $1"#, [.text(plugin)]).first ?? 0
        }
    }

    /// The cluster's position of the plugin; the first server to ask for a new plugin sets it
    /// at the log's end (the others, racing it, read what it set).
    public func pluginEventPosition(plugin: String) throws -> Int64 {
        try syncTransaction(.statement) { db in
            try db.db.execute(#"""
                INSERT INTO "pluginEventPosition" ("plugin", "position")
                SELECT $1, COALESCE(MAX("sequence"), 0) FROM "event"
                ON CONFLICT ("plugin") DO NOTHING
                """#, [.text(plugin)])
            guard let position = try db.db.column(Int64.self, #"SELECT "position" FROM "pluginEventPosition" WHERE "plugin" = $1"#,
                                                  [.text(plugin)]).first else {
                throw PostgresStoreError.recordNotFound(table: "pluginEventPosition")
            }
            return position
        }
    }

    /// Sequence numbers are drawn under an advisory lock held to commit (`PostgresTransaction.append`),
    /// so events commit in sequence order: a snapshot that shows an event shows every one before it.
    public func domainEvents(after sequence: Int64, kinds: [String], limit: Int) throws -> [EventRecord] {
        try syncTransaction(.read) { db in
            let every = kinds.contains("*")
            return try db.db.records(EventRecord.self, #"""
                SELECT * FROM "event" WHERE "sequence" > $1 AND "subjectID" NOT LIKE 'plugin:%'
                  AND ($2 OR "kind" = ANY(string_to_array($3, $4)))
                ORDER BY "sequence" LIMIT $5
                """#, [.integer(sequence), .boolean(every), .text(kinds.joined(separator: Self.kindSeparator)),
                       .text(Self.kindSeparator), .integer(Int64(max(limit, 0)))])
        }
    }

    /// Between kinds in one parameter (a kind never holds a control character).
    static let kindSeparator = "\u{1F}"

    /// Takes the lease when nobody holds it or its holder let it expire (a server that died), or
    /// renews it when this server holds it; expiry is judged by the database's clock alone.
    public func holdPluginEventLease(plugin: String, for duration: Duration) throws -> Bool {
        let milliseconds = max(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000, 1)
        return try syncTransaction(.statement) { db in
            try db.db.execute(#"""
                INSERT INTO "pluginEventLease" AS "lease" ("plugin", "holder", "expiresAt")
                VALUES ($1, $2, clock_timestamp() + $3::double precision * interval '1 millisecond')
                ON CONFLICT ("plugin") DO UPDATE SET "holder" = EXCLUDED."holder", "expiresAt" = EXCLUDED."expiresAt"
                WHERE "lease"."holder" = EXCLUDED."holder" OR "lease"."expiresAt" < clock_timestamp()
                """#, [.text(plugin), .text(leaseHolder), .integer(milliseconds)]) == 1
        }
    }

    public func releasePluginEventLease(plugin: String) throws {
        try syncTransaction(.statement) { db in
            _ = try db.db.execute(#"DELETE FROM "pluginEventLease" WHERE "plugin" = $1 AND "holder" = $2"#,
                                  [.text(plugin), .text(leaseHolder)])
        }
    }

    /// Another server may change credentials at any moment: nothing is cached.
    public var credentialsVersion: Int? { nil }
}

extension PostgresTransaction {
    func pluginValue(plugin: String, key: [UInt8]) throws -> [UInt8]? {
        try db.bytes(#"SELECT "value" FROM "pluginStorage" WHERE "plugin" = $1 AND "key" = $2"#, [.text(plugin), .bytes(key)])
    }

    func pluginNextKey(plugin: String, prefix: [UInt8], after: [UInt8]?) throws -> [UInt8]? {
        let comparison = after == nil ? ">=" : ">"
        let key = try db.bytes(
            #"SELECT "key" FROM "pluginStorage" WHERE "plugin" = $1 AND "key" \#(comparison) $2 ORDER BY "key" LIMIT 1"#,
            [.text(plugin), .bytes(after ?? prefix)])
        guard let key, key.starts(with: prefix) else { return nil }
        return key
    }
}
