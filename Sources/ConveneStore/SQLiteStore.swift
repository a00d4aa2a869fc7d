import ConveneDomain
import Foundation
import GRDB

// Stored enums are their raw values in their columns.
extension Phase: DatabaseValueConvertible {}
extension MeetingForm: DatabaseValueConvertible {}
extension Stage: DatabaseValueConvertible {}
extension MeetingStatus: DatabaseValueConvertible {}
extension RequestStatus: DatabaseValueConvertible {}
extension SummaryStatus: DatabaseValueConvertible {}

extension PartyRecord: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "party"
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}
extension CredentialRecord: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "credential"
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}
extension OperationRecord: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "operation"
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}
extension ContributionRecord: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "contribution"
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}
extension MeetingRecord: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "meeting"
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}
extension InvitationRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "invitation"
}
extension StatementRecord: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "statement"
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}
extension MeetingRequestRecord: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "meetingRequest"
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}
extension SummaryRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "summary"
}
extension PresidencyRecord: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "presidency"
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}
extension EventRecord: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "event"
    public mutating func didInsert(_ inserted: InsertionSuccess) { sequence = inserted.rowID }
}

extension ReportRecord: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "report"
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}
extension FactSheetRecord: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "factSheet"
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}
extension AttachmentRecord: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "attachment"
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}
extension BriefingRecordRow: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "briefing"
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}
extension AdviceRecord: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "advice"
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}
extension ExperienceRecord: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "experience"
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}
extension LessonRecord: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "lesson"
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// The embedded store: one SQLite file in the data directory, in WAL mode, written
/// through GRDB with synchronous=FULL so that a committed write survives a crash. One server
/// owns it: every commit happens in this process.
public final class SQLiteStore: ServerStore {
    let pool: DatabasePool
    let credentialVersion = CredentialVersion()
    /// Who is told of each write's outcome, and the observations of commits (`+Health`).
    let watchers = StoreWatchers()

    /// Opens (creating and migrating when needed) `DIRECTORY/convene.sqlite`. The directory
    /// is created readable by its owner only (0700), and so is the database (0600; SQLite
    /// gives its -wal and -shm files the database's mode).
    public init(directory: String) throws {
        try Self.prepareFiles(directory: directory)
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        configuration.busyMode = .timeout(10)
        pool = try DatabasePool(path: (directory as NSString).appendingPathComponent("convene.sqlite"),
                                configuration: configuration)
        try SQLiteSchema.migrator.migrate(pool)
        pool.add(transactionObserver: credentialVersion, extent: .databaseLifetime)
    }

    /// Opened and migrated on creation; nobody else writes it, so there is nothing to listen for.
    public func open(signals: StoreSignals) async throws {}

    public func close() async {}

    public var isShared: Bool { false }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any StoreReader) throws -> T) async throws -> T {
        do {
            return try await pool.read { db in try body(SQLiteTransaction(db: db)) }
        } catch let error as DatabaseError {
            throw classify(error)
        }
    }

    public func write<T: Sendable>(_ body: @escaping @Sendable (any StoreWriter) throws -> T) async throws -> T {
        do {
            let result = try await pool.write { db in try body(SQLiteTransaction(db: db)) }
            watchers.report(nil)
            return result
        } catch let error as DatabaseError {
            throw classify(error)
        }
    }

    /// A read from a thread that may block (plugin threads).
    public func syncRead<T>(_ body: (any StoreReader) throws -> T) throws -> T {
        try pool.read { db in try body(SQLiteTransaction(db: db)) }
    }

    /// A write transaction from a thread that may block (plugin threads).
    public func syncWrite<T>(_ body: (any StoreWriter) throws -> T) throws -> T {
        do {
            let result = try pool.write { db in try body(SQLiteTransaction(db: db)) }
            watchers.report(nil)
            return result
        } catch let error as DatabaseError {
            throw classify(error)
        }
    }

    // Plugin-scoped storage, called synchronously from plugin threads.

    public func pluginGet(plugin: String, key: [UInt8]) throws -> [UInt8]? {
        try pool.read { db in
            try Data.fetchOne(db, sql: "SELECT value FROM pluginStorage WHERE plugin = ? AND key = ?",
                              arguments: [plugin, Data(key)]).map { Array($0) }
        }
    }

    public func pluginNext(plugin: String, prefix: [UInt8], after: [UInt8]?) throws -> [UInt8]? {
        try pool.read { db in try Self.pluginNext(db, plugin: plugin, prefix: prefix, after: after) }
    }

    private static func pluginNext(_ db: Database, plugin: String, prefix: [UInt8], after: [UInt8]?) throws -> [UInt8]? {
        let comparison = after == nil ? ">=" : ">"
        let keys = try Data.fetchCursor(db, sql: "SELECT key FROM pluginStorage WHERE plugin = ? AND key \(comparison) ? ORDER BY key",
                                        arguments: [plugin, Data(after ?? prefix)])
        while let key = try keys.next() {
            let bytes = Array(key)
            guard bytes.starts(with: prefix) else { return nil }
            return bytes
        }
        return nil
    }

    /// A plugin call's writes and events, in one transaction; returns the stored events, or nil
    /// (committing nothing) when a key the call read no longer holds the value it read, or,
    /// for an event delivery (`position`), when the plugin's event position is no longer
    /// `position.from` (it becomes `position.to` in the same transaction).
    public func pluginCommit(plugin: String, reads: [(key: [UInt8], value: [UInt8]?)], listings: [PluginListing] = [],
                             writes: [(key: [UInt8], value: [UInt8]?)], events: [EventRecord],
                             position: (from: Int64, to: Int64)? = nil, storageLimit: Int64? = nil) throws -> [EventRecord]? {
        try pool.write { db in
            for (key, seen) in reads {
                let now = try Data.fetchOne(db, sql: "SELECT value FROM pluginStorage WHERE plugin = ? AND key = ?",
                                            arguments: [plugin, Data(key)]).map { Array($0) }
                if now != seen { return nil }
            }
            for listing in listings
            where try Self.pluginNext(db, plugin: plugin, prefix: listing.prefix, after: listing.after) != listing.next {
                return nil
            }
            if let position {
                try db.execute(sql: "UPDATE pluginEventPosition SET position = ? WHERE plugin = ? AND position = ?",
                               arguments: [position.to, plugin, position.from])
                if db.changesCount != 1 { return nil }
            }
            var added: Int64 = 0
            for (key, value) in writes {
                let before = try Int.fetchOne(db, sql: "SELECT length(value) FROM pluginStorage WHERE plugin = ? AND key = ?",
                                              arguments: [plugin, Data(key)])
                if let value {
                    try db.execute(sql: "INSERT OR REPLACE INTO pluginStorage (plugin, key, value) VALUES (?, ?, ?)",
                                   arguments: [plugin, Data(key), Data(value)])
                } else {
                    try db.execute(sql: "DELETE FROM pluginStorage WHERE plugin = ? AND key = ?", arguments: [plugin, Data(key)])
                }
                added += PluginStorageUsage.bytes(key: key.count, value: value?.count)
                    - PluginStorageUsage.bytes(key: key.count, value: before)
            }
            if added != 0 {
                let bytes = try Int64.fetchOne(db, sql: """
                    INSERT INTO pluginStorageUsage (plugin, bytes) VALUES (?, ?)
                    ON CONFLICT (plugin) DO UPDATE SET bytes = bytes + excluded.bytes RETURNING bytes
                    """, arguments: [plugin, added]) ?? added
                if added > 0, let storageLimit, bytes > storageLimit {
                    throw PluginStorageLimitExceeded(plugin: plugin, bytes: bytes, limit: storageLimit)
                }
            }
            return try events.map { event in var e = event; try e.insert(db); return e }
        }
    }

    public func pluginStorageUsage(plugin: String) throws -> Int64 {
        try pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT bytes FROM pluginStorageUsage WHERE plugin = ?", arguments: [plugin]) ?? 0
        }
    }

    /// The schema migrations applied, in order (for tests and diagnostics).
    public func appliedMigrations() throws -> [String] {
        try pool.read { db in try SQLiteSchema.migrator.appliedMigrations(db) }
    }

    /// Attachments (complete or not) and stored chunks, for tests and diagnostics.
    public func attachmentCounts() throws -> (attachments: Int, chunks: Int) {
        try pool.read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM attachment") ?? 0,
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM attachmentChunk") ?? 0)
        }
    }

    /// Runs SQLite's integrity check; "ok" when the file is sound.
    public func integrityCheck() throws -> String {
        try pool.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") ?? "" }
    }
}

struct SQLiteTransaction: StoreWriter {
    let db: Database

    func party(id: Int64) throws -> PartyRecord? { try PartyRecord.fetchOne(db, key: id) }
    func party(named name: String) throws -> PartyRecord? {
        try PartyRecord.filter(Column("name") == name).fetchOne(db)
    }
    func parties(_ page: Page) throws -> [PartyRecord] {
        try PartyRecord.filter(Column("id") > page.after).order(Column("id")).limit(page.size).fetchAll(db)
    }
    func allParties() throws -> [PartyRecord] { try PartyRecord.order(Column("id")).fetchAll(db) }
    func credential(tokenHash: String) throws -> CredentialRecord? {
        try CredentialRecord.filter(Column("tokenHash") == tokenHash).fetchOne(db)
    }
    func credential(id: Int64) throws -> CredentialRecord? { try CredentialRecord.fetchOne(db, key: id) }
    func presidencies() throws -> [PresidencyRecord] { try PresidencyRecord.order(Column("id")).fetchAll(db) }

    func operation(id: Int64) throws -> OperationRecord? { try OperationRecord.fetchOne(db, key: id) }
    func operations(_ page: Page) throws -> [OperationRecord] {
        try OperationRecord.filter(Column("id") > page.after).order(Column("id")).limit(page.size).fetchAll(db)
    }
    func contributions(operationID: Int64) throws -> [ContributionRecord] {
        try ContributionRecord.filter(Column("operationID") == operationID).order(Column("id")).fetchAll(db)
    }
    func potentialContributors(operationID: Int64) throws -> [Int64] {
        try Int64.fetchAll(db, sql: "SELECT partyID FROM potentialContributor WHERE operationID = ? ORDER BY partyID",
                           arguments: [operationID])
    }

    func meeting(id: Int64) throws -> MeetingRecord? { try MeetingRecord.fetchOne(db, key: id) }
    func meetings(operationID: Int64?, visibleTo viewer: (partyID: Int64, notCounting: [Int])?, beforeID: Int64,
                  limit: Int) throws -> [MeetingRecord] {
        var request = MeetingRecord.filter(Column("id") < beforeID)
        if let operationID { request = request.filter(Column("operationID") == operationID) }
        if let viewer {
            let counted = viewer.notCounting.isEmpty ? "" : " AND category NOT IN (\(viewer.notCounting.map(String.init).joined(separator: ", ")))"
            request = request.filter(sql: "id IN (SELECT meetingID FROM invitation WHERE partyID = ?\(counted))",
                                     arguments: [viewer.partyID])
        }
        return try request.order(Column("id").desc).limit(limit).fetchAll(db)
    }
    func meetings(operationID: Int64) throws -> [MeetingRecord] {
        try MeetingRecord.filter(Column("operationID") == operationID).order(Column("id")).fetchAll(db)
    }
    func invitations(meetingID: Int64) throws -> [InvitationRecord] {
        try InvitationRecord.filter(Column("meetingID") == meetingID).order(Column("partyID")).fetchAll(db)
    }
    func invitation(meetingID: Int64, partyID: Int64) throws -> InvitationRecord? {
        try InvitationRecord.fetchOne(db, key: ["meetingID": meetingID, "partyID": partyID])
    }
    func isInvited(partyID: Int64, operationID: Int64) throws -> Bool {
        try Bool.fetchOne(db, sql: """
            SELECT EXISTS (SELECT 1 FROM invitation JOIN meeting ON meeting.id = invitation.meetingID
                           WHERE invitation.partyID = ? AND meeting.operationID = ?
                             AND invitation.category NOT IN (\(InvitationCategory.heldByRole.map { String($0.rawValue) }.joined(separator: ", "))))
            """, arguments: [partyID, operationID]) ?? false
    }
    func statements(meetingID: Int64) throws -> [StatementRecord] {
        try StatementRecord.filter(Column("meetingID") == meetingID).order(Column("id")).fetchAll(db)
    }
    func statement(id: Int64) throws -> StatementRecord? { try StatementRecord.fetchOne(db, key: id) }

    func request(id: Int64) throws -> MeetingRequestRecord? { try MeetingRequestRecord.fetchOne(db, key: id) }
    func requests(operationID: Int64?, status: RequestStatus?) throws -> [MeetingRequestRecord] {
        var request = MeetingRequestRecord.all()
        if let operationID { request = request.filter(Column("operationID") == operationID) }
        if let status { request = request.filter(Column("status") == status.rawValue) }
        return try request.order(Column("id")).fetchAll(db)
    }

    func summary(meetingID: Int64) throws -> SummaryRecord? { try SummaryRecord.fetchOne(db, key: meetingID) }

    func events(operationID: Int64, after: Int64, limit: Int) throws -> [EventRecord] {
        try EventRecord.filter(Column("operationID") == operationID && Column("sequence") > after)
            .order(Column("sequence")).limit(limit).fetchAll(db)
    }

    func report(id: Int64) throws -> ReportRecord? { try ReportRecord.fetchOne(db, key: id) }
    func reports(operationID: Int64) throws -> [ReportRecord] {
        try ReportRecord.filter(Column("operationID") == operationID).order(Column("id")).fetchAll(db)
    }
    func reports(symbol: String) throws -> [ReportRecord] {
        try ReportRecord.filter(sql: "lower(symbol) = lower(?)", arguments: [symbol]).order(Column("id")).fetchAll(db)
    }
    func factSheets(meetingID: Int64) throws -> [FactSheetRecord] {
        try FactSheetRecord.filter(Column("meetingID") == meetingID).order(Column("id")).fetchAll(db)
    }
    func attachment(id: Int64) throws -> AttachmentRecord? { try AttachmentRecord.fetchOne(db, key: id) }
    func attachmentChunk(attachmentID: Int64, position: Int) throws -> [UInt8]? {
        try Data.fetchOne(db, sql: "SELECT data FROM attachmentChunk WHERE attachmentID = ? AND position = ?",
                          arguments: [attachmentID, position]).map { Array($0) }
    }
    func briefings(meetingID: Int64) throws -> [BriefingRecordRow] {
        try BriefingRecordRow.filter(Column("meetingID") == meetingID).order(Column("id")).fetchAll(db)
    }
    func advice(operationID: Int64) throws -> [AdviceRecord] {
        try AdviceRecord.filter(Column("operationID") == operationID).order(Column("id")).fetchAll(db)
    }
    func experience(operationID: Int64) throws -> [ExperienceRecord] {
        try ExperienceRecord.filter(Column("operationID") == operationID).order(Column("id")).fetchAll(db)
    }
    func experience(id: Int64) throws -> ExperienceRecord? { try ExperienceRecord.fetchOne(db, key: id) }
    func lessons() throws -> [LessonRecord] { try LessonRecord.order(Column("id").desc).fetchAll(db) }

    func insert(_ report: ReportRecord) throws -> ReportRecord { var r = report; try r.insert(db); return r }
    func update(_ report: ReportRecord) throws { try report.update(db) }
    func insert(_ factSheet: FactSheetRecord) throws -> FactSheetRecord { var f = factSheet; try f.insert(db); return f }
    func insert(_ attachment: AttachmentRecord) throws -> AttachmentRecord { var a = attachment; try a.insert(db); return a }
    func update(_ attachment: AttachmentRecord) throws { try attachment.update(db) }
    func appendAttachmentChunk(attachmentID: Int64, position: Int, data: [UInt8]) throws {
        try db.execute(sql: "INSERT INTO attachmentChunk (attachmentID, position, data) VALUES (?, ?, ?)",
                       arguments: [attachmentID, position, Data(data)])
    }
    func deleteIncompleteAttachments(olderThan: Int64) throws -> Int {
        try db.execute(sql: "DELETE FROM attachmentChunk WHERE attachmentID IN (SELECT id FROM attachment WHERE complete = 0 AND createdAt < ?)",
                       arguments: [olderThan])
        try db.execute(sql: "DELETE FROM attachment WHERE complete = 0 AND createdAt < ?", arguments: [olderThan])
        return db.changesCount
    }
    func deleteIncompleteAttachment(id: Int64) throws {
        try db.execute(sql: "DELETE FROM attachmentChunk WHERE attachmentID IN (SELECT id FROM attachment WHERE id = ? AND complete = 0)",
                       arguments: [id])
        try db.execute(sql: "DELETE FROM attachment WHERE id = ? AND complete = 0", arguments: [id])
    }
    func insert(_ briefing: BriefingRecordRow) throws -> BriefingRecordRow { var b = briefing; try b.insert(db); return b }
    func insert(_ advice: AdviceRecord) throws -> AdviceRecord { var a = advice; try a.insert(db); return a }
    func insert(_ experience: ExperienceRecord) throws -> ExperienceRecord { var e = experience; try e.insert(db); return e }
    func insert(_ lesson: LessonRecord) throws -> LessonRecord { var l = lesson; try l.insert(db); return l }

    func insert(_ party: PartyRecord) throws -> PartyRecord { var p = party; try p.insert(db); return p }
    func update(_ party: PartyRecord) throws { try party.update(db) }
    func insert(_ credential: CredentialRecord) throws -> CredentialRecord { var c = credential; try c.insert(db); return c }
    func update(_ credential: CredentialRecord) throws { try credential.update(db) }
    func insert(_ term: PresidencyRecord) throws -> PresidencyRecord { var t = term; try t.insert(db); return t }
    func update(_ term: PresidencyRecord) throws { try term.update(db) }
    func insert(_ operation: OperationRecord) throws -> OperationRecord { var o = operation; try o.insert(db); return o }
    func update(_ operation: OperationRecord) throws { try operation.update(db) }
    func insert(_ contribution: ContributionRecord) throws -> ContributionRecord {
        var c = contribution; try c.insert(db); return c
    }
    func addPotentialContributor(operationID: Int64, partyID: Int64) throws {
        try db.execute(sql: "INSERT OR IGNORE INTO potentialContributor (operationID, partyID) VALUES (?, ?)",
                       arguments: [operationID, partyID])
    }
    func insert(_ meeting: MeetingRecord) throws -> MeetingRecord { var m = meeting; try m.insert(db); return m }
    func update(_ meeting: MeetingRecord) throws { try meeting.update(db) }
    func insert(_ invitation: InvitationRecord) throws { try invitation.insert(db) }
    func update(_ invitation: InvitationRecord) throws { try invitation.update(db) }
    func withdrawInvitations(partyID: Int64, categories: [Int], now: Int64) throws {
        guard !categories.isEmpty else { return }
        try db.execute(sql: """
            DELETE FROM invitation WHERE partyID = ? AND category IN (\(categories.map { _ in "?" }.joined(separator: ", ")))
              AND meetingID IN (SELECT id FROM meeting WHERE status = ? AND scheduledAt >= ?)
            """, arguments: StatementArguments([partyID] + categories.map(Int64.init) + [Int64(MeetingStatus.convened.rawValue), now]))
    }
    func insert(_ statement: StatementRecord) throws -> StatementRecord { var s = statement; try s.insert(db); return s }
    func update(_ statement: StatementRecord) throws { try statement.update(db) }
    func insert(_ request: MeetingRequestRecord) throws -> MeetingRequestRecord { var r = request; try r.insert(db); return r }
    func update(_ request: MeetingRequestRecord) throws { try request.update(db) }
    func save(_ summary: SummaryRecord) throws { try summary.save(db) }
    func append(_ event: EventRecord) throws -> EventRecord { var e = event; try e.insert(db); return e }
}
