import ConveneDomain
import ConveneStore
import PostgresNIO

/// One transaction of the PostgreSQL store, as the services see every store: `StoreReader` and
/// `StoreWriter` over a connection that is inside BEGIN ... COMMIT. Each method is one statement
/// (or a few), run synchronously on a thread of the store's pool.
struct PostgresTransaction: StoreWriter {
    let db: BlockingConnection

    // MARK: Reading

    func party(id: Int64) throws -> PartyRecord? { try db.record(PartyRecord.self, #"SELECT * FROM "party" WHERE "id" = $1"#, [.integer(id)]) }
    func party(named name: String) throws -> PartyRecord? {
        try db.record(PartyRecord.self, #"SELECT * FROM "party" WHERE "name" = $1"#, [.text(name)])
    }
    func parties(_ page: Page) throws -> [PartyRecord] {
        try db.records(PartyRecord.self, #"SELECT * FROM "party" WHERE "id" > $1 ORDER BY "id" LIMIT $2"#,
                       [.integer(page.after), .integer(Int64(page.size))])
    }
    func allParties() throws -> [PartyRecord] { try db.records(PartyRecord.self, #"SELECT * FROM "party" ORDER BY "id""#) }
    func credential(tokenHash: String) throws -> CredentialRecord? {
        try db.record(CredentialRecord.self, #"SELECT * FROM "credential" WHERE "tokenHash" = $1"#, [.text(tokenHash)])
    }
    func credential(id: Int64) throws -> CredentialRecord? {
        try db.record(CredentialRecord.self, #"SELECT * FROM "credential" WHERE "id" = $1"#, [.integer(id)])
    }
    func presidencies() throws -> [PresidencyRecord] {
        try db.records(PresidencyRecord.self, #"SELECT * FROM "presidency" ORDER BY "id""#)
    }

    func operation(id: Int64) throws -> OperationRecord? {
        try db.record(OperationRecord.self, #"SELECT * FROM "operation" WHERE "id" = $1"#, [.integer(id)])
    }
    func operations(_ page: Page) throws -> [OperationRecord] {
        try db.records(OperationRecord.self, #"SELECT * FROM "operation" WHERE "id" > $1 ORDER BY "id" LIMIT $2"#,
                       [.integer(page.after), .integer(Int64(page.size))])
    }
    func contributions(operationID: Int64) throws -> [ContributionRecord] {
        try db.records(ContributionRecord.self, #"SELECT * FROM "contribution" WHERE "operationID" = $1 ORDER BY "id""#,
                       [.integer(operationID)])
    }
    func potentialContributors(operationID: Int64) throws -> [Int64] {
        try db.column(Int64.self, #"SELECT "partyID" FROM "potentialContributor" WHERE "operationID" = $1 ORDER BY "partyID""#,
                      [.integer(operationID)])
    }

    func meeting(id: Int64) throws -> MeetingRecord? {
        try db.record(MeetingRecord.self, #"SELECT * FROM "meeting" WHERE "id" = $1"#, [.integer(id)])
    }
    func meetings(operationID: Int64?, visibleTo viewer: (partyID: Int64, notCounting: [Int])?, beforeID: Int64,
                  limit: Int) throws -> [MeetingRecord] {
        var sql = #"SELECT * FROM "meeting" WHERE "id" < $1"#
        var values: [ColumnValue] = [.integer(beforeID)]
        if let operationID {
            values.append(.integer(operationID))
            sql += #" AND "operationID" = $\#(values.count)"#
        }
        if let viewer {
            values.append(.integer(viewer.partyID))
            let counted = viewer.notCounting.isEmpty ? ""
                : #" AND "category" NOT IN (\#(viewer.notCounting.map(String.init).joined(separator: ", ")))"#
            sql += #" AND "id" IN (SELECT "meetingID" FROM "invitation" WHERE "partyID" = $\#(values.count)\#(counted))"#
        }
        values.append(.integer(Int64(limit)))
        return try db.records(MeetingRecord.self, sql + #" ORDER BY "id" DESC LIMIT $\#(values.count)"#, values)
    }
    func meetings(operationID: Int64) throws -> [MeetingRecord] {
        try db.records(MeetingRecord.self, #"SELECT * FROM "meeting" WHERE "operationID" = $1 ORDER BY "id""#, [.integer(operationID)])
    }
    func invitations(meetingID: Int64) throws -> [InvitationRecord] {
        try db.records(InvitationRecord.self, #"SELECT * FROM "invitation" WHERE "meetingID" = $1 ORDER BY "partyID""#,
                       [.integer(meetingID)])
    }
    func invitation(meetingID: Int64, partyID: Int64) throws -> InvitationRecord? {
        try db.record(InvitationRecord.self, #"SELECT * FROM "invitation" WHERE "meetingID" = $1 AND "partyID" = $2"#,
                      [.integer(meetingID), .integer(partyID)])
    }
    func isInvited(partyID: Int64, operationID: Int64) throws -> Bool {
        try db.column(Bool.self, """
            SELECT EXISTS (SELECT 1 FROM "invitation" JOIN "meeting" ON "meeting"."id" = "invitation"."meetingID"
                           WHERE "invitation"."partyID" = $1 AND "meeting"."operationID" = $2
                             AND "invitation"."category" NOT IN (\(InvitationCategory.heldByRole.map { String($0.rawValue) }.joined(separator: ", "))))
            """, [.integer(partyID), .integer(operationID)]).first ?? false
    }
    func statements(meetingID: Int64) throws -> [StatementRecord] {
        try db.records(StatementRecord.self, #"SELECT * FROM "statement" WHERE "meetingID" = $1 ORDER BY "id""#, [.integer(meetingID)])
    }
    func statement(id: Int64) throws -> StatementRecord? {
        try db.record(StatementRecord.self, #"SELECT * FROM "statement" WHERE "id" = $1"#, [.integer(id)])
    }

    func request(id: Int64) throws -> MeetingRequestRecord? {
        try db.record(MeetingRequestRecord.self, #"SELECT * FROM "meetingRequest" WHERE "id" = $1"#, [.integer(id)])
    }
    func requests(operationID: Int64?, status: RequestStatus?) throws -> [MeetingRequestRecord] {
        var conditions: [String] = []
        var values: [ColumnValue] = []
        if let operationID {
            values.append(.integer(operationID))
            conditions.append(#""operationID" = $\#(values.count)"#)
        }
        if let status {
            values.append(.integer(Int64(status.rawValue)))
            conditions.append(#""status" = $\#(values.count)"#)
        }
        let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        return try db.records(MeetingRequestRecord.self, #"SELECT * FROM "meetingRequest""# + filter + #" ORDER BY "id""#, values)
    }

    func summary(meetingID: Int64) throws -> SummaryRecord? {
        try db.record(SummaryRecord.self, #"SELECT * FROM "summary" WHERE "meetingID" = $1"#, [.integer(meetingID)])
    }

    func events(operationID: Int64, after: Int64, limit: Int) throws -> [EventRecord] {
        try db.records(EventRecord.self,
                       #"SELECT * FROM "event" WHERE "operationID" = $1 AND "sequence" > $2 ORDER BY "sequence" LIMIT $3"#,
                       [.integer(operationID), .integer(after), .integer(Int64(limit))])
    }

    func report(id: Int64) throws -> ReportRecord? { try db.record(ReportRecord.self, #"SELECT * FROM "report" WHERE "id" = $1"#, [.integer(id)]) }
    func reports(operationID: Int64) throws -> [ReportRecord] {
        try db.records(ReportRecord.self, #"SELECT * FROM "report" WHERE "operationID" = $1 ORDER BY "id""#, [.integer(operationID)])
    }
    func reports(symbol: String) throws -> [ReportRecord] {
        // lower() of ASCII letters only, as SQLite's: the same symbols match on either store.
        try db.records(ReportRecord.self, #"SELECT * FROM "report" WHERE translate("symbol", 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') = translate($1, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') ORDER BY "id""#,
                       [.text(symbol)])
    }
    func factSheets(meetingID: Int64) throws -> [FactSheetRecord] {
        try db.records(FactSheetRecord.self, #"SELECT * FROM "factSheet" WHERE "meetingID" = $1 ORDER BY "id""#, [.integer(meetingID)])
    }
    func attachment(id: Int64) throws -> AttachmentRecord? {
        try db.record(AttachmentRecord.self, #"SELECT * FROM "attachment" WHERE "id" = $1"#, [.integer(id)])
    }
    func attachmentChunk(attachmentID: Int64, position: Int) throws -> [UInt8]? {
        try db.bytes(#"SELECT "data" FROM "attachmentChunk" WHERE "attachmentID" = $1 AND "position" = $2"#,
                     [.integer(attachmentID), .integer(Int64(position))])
    }
    func briefings(meetingID: Int64) throws -> [BriefingRecordRow] {
        try db.records(BriefingRecordRow.self, #"SELECT * FROM "briefing" WHERE "meetingID" = $1 ORDER BY "id""#, [.integer(meetingID)])
    }
    func advice(operationID: Int64) throws -> [AdviceRecord] {
        try db.records(AdviceRecord.self, #"SELECT * FROM "advice" WHERE "operationID" = $1 ORDER BY "id""#, [.integer(operationID)])
    }
    func experience(operationID: Int64) throws -> [ExperienceRecord] {
        try db.records(ExperienceRecord.self, #"SELECT * FROM "experience" WHERE "operationID" = $1 ORDER BY "id""#,
                       [.integer(operationID)])
    }
    func experience(id: Int64) throws -> ExperienceRecord? {
        try db.record(ExperienceRecord.self, #"SELECT * FROM "experience" WHERE "id" = $1"#, [.integer(id)])
    }
    func lessons() throws -> [LessonRecord] { try db.records(LessonRecord.self, #"SELECT * FROM "lesson" ORDER BY "id" DESC"#) }

    // MARK: Writing

    func insert(_ party: PartyRecord) throws -> PartyRecord { var p = party; p.id = try insert(p, into: "party"); return p }
    func update(_ party: PartyRecord) throws { try update(party, in: "party") }
    func insert(_ credential: CredentialRecord) throws -> CredentialRecord {
        var c = credential; c.id = try insert(c, into: "credential"); return c
    }
    func update(_ credential: CredentialRecord) throws { try update(credential, in: "credential") }
    func insert(_ term: PresidencyRecord) throws -> PresidencyRecord { var t = term; t.id = try insert(t, into: "presidency"); return t }
    func update(_ term: PresidencyRecord) throws { try update(term, in: "presidency") }

    func insert(_ operation: OperationRecord) throws -> OperationRecord {
        var o = operation; o.id = try insert(o, into: "operation"); return o
    }
    func update(_ operation: OperationRecord) throws { try update(operation, in: "operation") }
    func insert(_ contribution: ContributionRecord) throws -> ContributionRecord {
        var c = contribution; c.id = try insert(c, into: "contribution"); return c
    }
    func addPotentialContributor(operationID: Int64, partyID: Int64) throws {
        try db.execute(#"INSERT INTO "potentialContributor" ("operationID", "partyID") VALUES ($1, $2) ON CONFLICT DO NOTHING"#,
                       [.integer(operationID), .integer(partyID)])
    }

    func insert(_ meeting: MeetingRecord) throws -> MeetingRecord { var m = meeting; m.id = try insert(m, into: "meeting"); return m }
    func update(_ meeting: MeetingRecord) throws { try update(meeting, in: "meeting") }
    func insert(_ invitation: InvitationRecord) throws { _ = try insert(invitation, into: "invitation", generated: nil) }
    func update(_ invitation: InvitationRecord) throws {
        try db.execute(#"""
            UPDATE "invitation" SET "category" = $3, "role" = $4, "required" = $5, "reason" = $6
            WHERE "meetingID" = $1 AND "partyID" = $2
            """#, [.integer(invitation.meetingID), .integer(invitation.partyID), .integer(Int64(invitation.category)),
                   .integer(Int64(invitation.role)), .boolean(invitation.required), .text(invitation.reason)])
    }
    func withdrawInvitations(partyID: Int64, categories: [Int], now: Int64) throws {
        guard !categories.isEmpty else { return }
        let placeholders = categories.indices.map { "$\($0 + 4)" }.joined(separator: ", ")
        try db.execute(#"""
            DELETE FROM "invitation" WHERE "partyID" = $1 AND "category" IN (\#(placeholders))
              AND "meetingID" IN (SELECT "id" FROM "meeting" WHERE "status" = $2 AND "scheduledAt" >= $3)
            """#, [.integer(partyID), .integer(Int64(MeetingStatus.convened.rawValue)), .integer(now)]
                + categories.map { .integer(Int64($0)) })
    }
    func insert(_ statement: StatementRecord) throws -> StatementRecord {
        var s = statement; s.id = try insert(s, into: "statement"); return s
    }
    func update(_ statement: StatementRecord) throws { try update(statement, in: "statement") }

    func insert(_ request: MeetingRequestRecord) throws -> MeetingRequestRecord {
        var r = request; r.id = try insert(r, into: "meetingRequest"); return r
    }
    func update(_ request: MeetingRequestRecord) throws { try update(request, in: "meetingRequest") }

    /// Inserts the summary, or replaces the meeting's one (GRDB's `save`).
    func save(_ summary: SummaryRecord) throws {
        let columns = try RowEncoder.columns(of: summary)
        let names = columns.map { #""\#($0.name)""# }
        let changes = columns.filter { $0.name != "meetingID" }.map { #""\#($0.name)" = EXCLUDED."\#($0.name)""# }
        try db.execute("""
            INSERT INTO "summary" (\(names.joined(separator: ", "))) VALUES (\(Self.placeholders(columns.count)))
            ON CONFLICT ("meetingID") DO UPDATE SET \(changes.joined(separator: ", "))
            """, columns.map(\.value))
    }

    /// Appends an event with the next sequence number. The number is drawn under an advisory
    /// lock that the transaction holds until it commits, so numbers are handed out in commit
    /// order: a reader who has seen event N has seen every committed event before N (a watcher
    /// reading "after N" misses none). A rolled-back write leaves a gap, never a late arrival.
    func append(_ event: EventRecord) throws -> EventRecord {
        try db.query("SELECT pg_advisory_xact_lock($1)", [.integer(PostgresSchema.eventLock)])
        guard let sequence = try db.column(Int64.self, #"SELECT nextval('"event_sequence"')"#).first else {
            throw ColumnMismatch(column: "sequence", detail: "nextval returned no row")
        }
        var stored = event
        stored.sequence = sequence
        _ = try insert(stored, into: "event", generated: nil)
        return stored
    }

    func insert(_ report: ReportRecord) throws -> ReportRecord { var r = report; r.id = try insert(r, into: "report"); return r }
    func update(_ report: ReportRecord) throws { try update(report, in: "report") }
    func insert(_ factSheet: FactSheetRecord) throws -> FactSheetRecord {
        var f = factSheet; f.id = try insert(f, into: "factSheet"); return f
    }
    func insert(_ attachment: AttachmentRecord) throws -> AttachmentRecord {
        var a = attachment; a.id = try insert(a, into: "attachment"); return a
    }
    func update(_ attachment: AttachmentRecord) throws { try update(attachment, in: "attachment") }
    func appendAttachmentChunk(attachmentID: Int64, position: Int, data: [UInt8]) throws {
        try db.execute(#"INSERT INTO "attachmentChunk" ("attachmentID", "position", "data") VALUES ($1, $2, $3)"#,
                       [.integer(attachmentID), .integer(Int64(position)), .bytes(data)])
    }
    func deleteIncompleteAttachments(olderThan: Int64) throws -> Int {
        // The pieces go with their attachment (ON DELETE CASCADE).
        try db.execute(#"DELETE FROM "attachment" WHERE NOT "complete" AND "createdAt" < $1"#, [.integer(olderThan)])
    }
    func deleteIncompleteAttachment(id: Int64) throws {
        try db.execute(#"DELETE FROM "attachment" WHERE "id" = $1 AND NOT "complete""#, [.integer(id)])
    }
    func insert(_ briefing: BriefingRecordRow) throws -> BriefingRecordRow {
        var b = briefing; b.id = try insert(b, into: "briefing"); return b
    }
    func insert(_ advice: AdviceRecord) throws -> AdviceRecord { var a = advice; a.id = try insert(a, into: "advice"); return a }
    func insert(_ experience: ExperienceRecord) throws -> ExperienceRecord {
        var e = experience; e.id = try insert(e, into: "experience"); return e
    }
    func insert(_ lesson: LessonRecord) throws -> LessonRecord { var l = lesson; l.id = try insert(l, into: "lesson"); return l }

    // MARK: Records as rows

    /// Inserts a record; the key the database generated (`generated`, left out while nil).
    private func insert<Record: Encodable>(_ record: Record, into table: String, generated key: String? = "id") throws -> Int64? {
        var columns = try RowEncoder.columns(of: record)
        if let key { columns.removeAll { $0.name == key && $0.value == .null } }
        let names = columns.map { #""\#($0.name)""# }.joined(separator: ", ")
        let returning = key.map { #" RETURNING "\#($0)""# } ?? ""
        let result = try db.query(#"INSERT INTO "\#(table)" (\#(names)) VALUES (\#(Self.placeholders(columns.count)))"# + returning,
                                  columns.map(\.value))
        guard key != nil else { return nil }
        guard let cell = result.rows.first?.first else { throw ColumnMismatch(column: key ?? "", detail: "no key returned") }
        return try cell.decode(Int64.self)
    }

    /// Updates the row with the record's `id`; a record with no row is an error, as it is in GRDB.
    private func update<Record: Encodable>(_ record: Record, in table: String) throws {
        let columns = try RowEncoder.columns(of: record)
        guard let key = columns.first(where: { $0.name == "id" }), key.value != .null else {
            throw PostgresStoreError.recordNotFound(table: table)
        }
        let changes = columns.filter { $0.name != "id" }
        let assignments = changes.enumerated().map { #""\#($1.name)" = $\#($0 + 1)"# }.joined(separator: ", ")
        let count = try db.execute(#"UPDATE "\#(table)" SET \#(assignments) WHERE "id" = $\#(changes.count + 1)"#,
                                   changes.map(\.value) + [key.value])
        if count == 0 { throw PostgresStoreError.recordNotFound(table: table) }
    }

    static func placeholders(_ count: Int) -> String {
        (1...max(count, 1)).map { "$\($0)" }.joined(separator: ", ")
    }
}
