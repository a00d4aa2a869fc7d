import ConveneDomain

/// Durable state, behind an interface so that a PostgreSQL store can stand beside the
/// embedded SQLite one. Every `write` is one transaction: it commits as a whole, durably,
/// before it returns, or leaves nothing.
public protocol ConveneStore: Sendable {
    func read<T: Sendable>(_ body: @escaping @Sendable (any StoreReader) throws -> T) async throws -> T
    func write<T: Sendable>(_ body: @escaping @Sendable (any StoreWriter) throws -> T) async throws -> T
}

public struct Page: Sendable {
    /// Rows after this id (0: from the start).
    public var after: Int64
    public var size: Int

    public init(after: Int64, size: Int) {
        self.after = after
        self.size = size
    }
}

public protocol StoreReader {
    func party(id: Int64) throws -> PartyRecord?
    func party(named name: String) throws -> PartyRecord?
    func parties(_ page: Page) throws -> [PartyRecord]
    func allParties() throws -> [PartyRecord]
    func credential(tokenHash: String) throws -> CredentialRecord?
    func credential(id: Int64) throws -> CredentialRecord?
    /// The terms of the Council presidency, oldest first.
    func presidencies() throws -> [PresidencyRecord]

    func operation(id: Int64) throws -> OperationRecord?
    func operations(_ page: Page) throws -> [OperationRecord]
    func contributions(operationID: Int64) throws -> [ContributionRecord]
    func potentialContributors(operationID: Int64) throws -> [Int64]

    func meeting(id: Int64) throws -> MeetingRecord?
    /// Newest first; `visibleTo` nil for every meeting, else those the party is invited to in
    /// a category other than `notCounting`.
    func meetings(operationID: Int64?, visibleTo viewer: (partyID: Int64, notCounting: [Int])?, beforeID: Int64,
                  limit: Int) throws -> [MeetingRecord]
    func meetings(operationID: Int64) throws -> [MeetingRecord]
    func invitations(meetingID: Int64) throws -> [InvitationRecord]
    func invitation(meetingID: Int64, partyID: Int64) throws -> InvitationRecord?
    /// Whether the party is invited to any meeting of the operation.
    /// Whether the party is invited to a meeting of the operation in its own right: not in a
    /// category it holds by a role (`InvitationCategory.heldByRole`; the role is its access).
    func isInvited(partyID: Int64, operationID: Int64) throws -> Bool
    func statements(meetingID: Int64) throws -> [StatementRecord]
    func statement(id: Int64) throws -> StatementRecord?

    func request(id: Int64) throws -> MeetingRequestRecord?
    func requests(operationID: Int64?, status: RequestStatus?) throws -> [MeetingRequestRecord]

    func summary(meetingID: Int64) throws -> SummaryRecord?

    func events(operationID: Int64, after: Int64, limit: Int) throws -> [EventRecord]

    func report(id: Int64) throws -> ReportRecord?
    func reports(operationID: Int64) throws -> [ReportRecord]
    /// Reports of any operation whose symbol is `symbol`, ASCII letters in either case.
    func reports(symbol: String) throws -> [ReportRecord]
    func factSheets(meetingID: Int64) throws -> [FactSheetRecord]
    func attachment(id: Int64) throws -> AttachmentRecord?
    /// Chunk `position` of an attachment, in upload order from 0.
    func attachmentChunk(attachmentID: Int64, position: Int) throws -> [UInt8]?
    func briefings(meetingID: Int64) throws -> [BriefingRecordRow]
    func advice(operationID: Int64) throws -> [AdviceRecord]
    func experience(operationID: Int64) throws -> [ExperienceRecord]
    func experience(id: Int64) throws -> ExperienceRecord?
    func lessons() throws -> [LessonRecord]
}

public protocol StoreWriter: StoreReader {
    func insert(_ party: PartyRecord) throws -> PartyRecord
    func update(_ party: PartyRecord) throws
    func insert(_ credential: CredentialRecord) throws -> CredentialRecord
    func update(_ credential: CredentialRecord) throws
    func insert(_ term: PresidencyRecord) throws -> PresidencyRecord
    func update(_ term: PresidencyRecord) throws

    func insert(_ operation: OperationRecord) throws -> OperationRecord
    func update(_ operation: OperationRecord) throws
    func insert(_ contribution: ContributionRecord) throws -> ContributionRecord
    func addPotentialContributor(operationID: Int64, partyID: Int64) throws

    func insert(_ meeting: MeetingRecord) throws -> MeetingRecord
    func update(_ meeting: MeetingRecord) throws
    func insert(_ invitation: InvitationRecord) throws
    /// Records another category (and role, reason) for an invitation that exists.
    func update(_ invitation: InvitationRecord) throws
    /// Takes back `partyID`'s invitations in `categories` to the meetings still to come: not
    /// held (`MeetingStatus.convened`) and scheduled at `now` or later.
    func withdrawInvitations(partyID: Int64, categories: [Int], now: Int64) throws
    func insert(_ statement: StatementRecord) throws -> StatementRecord
    func update(_ statement: StatementRecord) throws

    func insert(_ request: MeetingRequestRecord) throws -> MeetingRequestRecord
    func update(_ request: MeetingRequestRecord) throws

    func save(_ summary: SummaryRecord) throws

    func append(_ event: EventRecord) throws -> EventRecord

    func insert(_ report: ReportRecord) throws -> ReportRecord
    func update(_ report: ReportRecord) throws
    func insert(_ factSheet: FactSheetRecord) throws -> FactSheetRecord
    func insert(_ attachment: AttachmentRecord) throws -> AttachmentRecord
    func update(_ attachment: AttachmentRecord) throws
    func appendAttachmentChunk(attachmentID: Int64, position: Int, data: [UInt8]) throws
    /// Removes uploads that never completed (an upload refused or cut off, or interrupted by a crash).
    func deleteIncompleteAttachments(olderThan: Int64) throws -> Int
    /// Removes one attachment and its chunks, provided it never completed.
    func deleteIncompleteAttachment(id: Int64) throws
    func insert(_ briefing: BriefingRecordRow) throws -> BriefingRecordRow
    func insert(_ advice: AdviceRecord) throws -> AdviceRecord
    func insert(_ experience: ExperienceRecord) throws -> ExperienceRecord
    func insert(_ lesson: LessonRecord) throws -> LessonRecord
}

public enum StoreError: Error, Sendable, Equatable {
    /// A row with the same unique key exists; the transaction was rolled back.
    case duplicate
    /// The store's own check of a rule refused the write (e.g. a second Council President); the
    /// transaction was rolled back.
    case ruleViolated(String)
    /// The disk holding the store is full: nothing of the transaction was written.
    case full(cause: String)
    /// The store cannot be read or written now (an I/O error, permissions, corruption; a
    /// database unreachable, or too busy after the store's own retries); `cause` says what
    /// happened, for the server's log. Nothing was written.
    case unavailable(cause: String)

    /// What a store answers to a second Council President.
    public static let onePresidentMessage = "one Council President at a time (II.B.1)"
}
