import ConveneDomain
import ConveneRPC
import ConveneStore
import XCTest

/// What every implementation of `ConveneStore` must do, as one suite: SQLite's tests run it
/// (ConveneStoreTests), and so will a PostgreSQL store's. Each check is a method; a test case
/// calls each one with a fresh, empty store.
public struct StoreBehaviour: Sendable {
    /// A new, empty store.
    public let makeStore: @Sendable () async throws -> any ConveneStore
    /// The sequence numbers of an operation's committed events, read outside any transaction
    /// of the store and without suspending (on another connection): how an event observer
    /// checks that what it is handed is already committed.
    public let committedEvents: @Sendable (any ConveneStore, _ operationID: Int64) throws -> [Int64]

    public init(makeStore: @escaping @Sendable () async throws -> any ConveneStore,
                committedEvents: @escaping @Sendable (any ConveneStore, Int64) throws -> [Int64]) {
        self.makeStore = makeStore
        self.committedEvents = committedEvents
    }

    /// All the checks, by name (so that a store's test case can be told which one failed).
    public var all: [(name: String, check: @Sendable () async throws -> Void)] {
        [("writesAreAllOrNothing", writesAreAllOrNothing),
         ("aConflictPartWayLeavesNothing", aConflictPartWayLeavesNothing),
         ("eventsReachWatchersOnlyAfterTheirCommit", eventsReachWatchersOnlyAfterTheirCommit),
         ("aFailedCommitHandsNoEventToWatchers", aFailedCommitHandsNoEventToWatchers),
         ("eventsAreReadInSequenceOrder", eventsAreReadInSequenceOrder),
         ("pagesAndVisibility", pagesAndVisibility),
         ("storedStatusesComeBackAsTheyWereWritten", storedStatusesComeBackAsTheyWereWritten),
         ("incompleteAttachmentsAreRemovedAndCompleteOnesKept", incompleteAttachmentsAreRemovedAndCompleteOnesKept),
         ("oneCouncilPresidentWhateverWritesTheStore", oneCouncilPresidentWhateverWritesTheStore),
         ("everyRecordComesBackAsItWasWritten", everyRecordComesBackAsItWasWritten),
         ("pluginEventPositionsMoveOnceFromWhereTheyAre", pluginEventPositionsMoveOnceFromWhereTheyAre),
         ("aPluginCommitChecksTheKeysItListed", aPluginCommitChecksTheKeysItListed),
         ("aPluginsStorageIsCountedAndBounded", aPluginsStorageIsCountedAndBounded),
         ("aPluginEventLeaseIsHeldRenewedAndGivenUp", aPluginEventLeaseIsHeldRenewedAndGivenUp),
         ("aRevocationChangesTheCredentialsVersion", aRevocationChangesTheCredentialsVersion)]
    }

    /// Runs every check, each on a fresh store; a thrown error fails the test naming its check
    /// (a failed assertion points into the suite).
    public func checkAll(file: StaticString = #filePath, line: UInt = #line) async {
        for (name, check) in all {
            do {
                try await check()
            } catch {
                XCTFail("\(name): \(error)", file: file, line: line)
            }
        }
    }

    struct Abandoned: Error {}

    /// A write that throws after writing leaves nothing: not its rows, not its events.
    @Sendable public func writesAreAllOrNothing() async throws {
        let store = try await makeStore()
        let operationID = try await store.write { db in try Self.operation(db, name: "UNMIX").id! }
        do {
            try await store.write { db in
                _ = try db.insert(PartyRecord(name: "Half-written", kind: .memberState, roles: []))
                _ = try db.append(Self.event(operationID, "test.half"))
                throw Abandoned()
            }
            XCTFail("the write should have failed")
        } catch is Abandoned {}
        try await store.read { db in
            XCTAssertNil(try db.party(named: "Half-written"), "a row of a failed write was kept")
            XCTAssertEqual(try db.events(operationID: operationID, after: 0, limit: 10).map(\.kind), [],
                           "an event of a failed write was kept")
        }
    }

    /// A write that the store itself refuses part-way (a unique name taken) leaves nothing,
    /// and says why (StoreError.duplicate).
    @Sendable public func aConflictPartWayLeavesNothing() async throws {
        let store = try await makeStore()
        _ = try await store.write { db in try db.insert(PartyRecord(name: "Taken", kind: .memberState, roles: [])) }
        do {
            try await store.write { db in
                _ = try db.insert(PartyRecord(name: "First of two", kind: .memberState, roles: []))
                _ = try db.insert(PartyRecord(name: "Taken", kind: .unBody, roles: []))
            }
            XCTFail("a duplicate name should fail the write")
        } catch StoreError.duplicate {}
        try await store.read { db in
            XCTAssertNil(try db.party(named: "First of two"), "the write's first row was kept")
            XCTAssertEqual(try db.party(named: "Taken")?.party.kind, .memberState, "the existing row was changed")
        }
    }

    /// Watchers get a write's events only once the write is committed: an observer checks,
    /// for every event it is handed, that an independent read already sees it.
    @Sendable public func eventsReachWatchersOnlyAfterTheirCommit() async throws {
        let store = try await makeStore()
        let bus = EventBus()
        let operationID = try await store.write { db in try Self.operation(db, name: "UNMIX").id! }
        let handed = Locked<[Int64]>([])
        bus.observe { [committedEvents] batch in
            let committed = (try? committedEvents(store, operationID)) ?? []
            for event in batch {
                XCTAssertTrue(committed.contains(event.sequence ?? -1),
                              "\(event.kind) (\(event.sequence ?? -1)) was handed to a watcher before it was committed")
            }
            handed.withLock { $0 += batch.compactMap(\.sequence) }
        }
        let live = bus.subscribe(operationID: operationID)
        for round in 0..<3 {
            try await store.write(publishingTo: bus) { db, events in
                _ = try db.insert(PartyRecord(name: "Party \(round)", kind: .memberState, roles: []))
                events.append(Self.event(operationID, "test.first"))
                events.append(Self.event(operationID, "test.second"))
            }
        }
        let sequences = handed.withLock { $0 }
        XCTAssertEqual(sequences.count, 6, "every committed event is handed on")
        XCTAssertEqual(sequences, sequences.sorted(), "in the order of the store")
        var received: [Int64] = []
        for await sequence in live {
            received.append(sequence)
            if received.count == 6 { break }
        }
        XCTAssertEqual(received, sequences, "a subscriber gets the same events")
    }

    /// A write that fails hands none of its events to anyone.
    @Sendable public func aFailedCommitHandsNoEventToWatchers() async throws {
        let store = try await makeStore()
        let bus = EventBus()
        let operationID = try await store.write { db in try Self.operation(db, name: "UNMIX").id! }
        let handed = Locked(0)
        bus.observe { batch in handed.withLock { $0 += batch.count } }
        _ = try await store.write { db in try db.insert(PartyRecord(name: "Taken", kind: .memberState, roles: [])) }
        do {
            try await store.write(publishingTo: bus) { db, events in
                events.append(Self.event(operationID, "test.refused"))
                _ = try db.insert(PartyRecord(name: "Taken", kind: .memberState, roles: []))
            }
            XCTFail("a duplicate name should fail the write")
        } catch StoreError.duplicate {}
        do {
            try await store.write(publishingTo: bus) { _, events in
                events.append(Self.event(operationID, "test.abandoned"))
                throw Abandoned()
            }
        } catch is Abandoned {}
        XCTAssertEqual(handed.withLock { $0 }, 0, "an event of a failed write reached a watcher")
        XCTAssertEqual(try committedEvents(store, operationID), [])
    }

    /// Events are numbered in commit order, per store, and read back in that order from any point.
    @Sendable public func eventsAreReadInSequenceOrder() async throws {
        let store = try await makeStore()
        let (first, second) = try await store.write { db in
            (try Self.operation(db, name: "First").id!, try Self.operation(db, name: "Second").id!)
        }
        for index in 0..<5 {
            _ = try await store.write { db in
                try db.append(Self.event(index % 2 == 0 ? first : second, "test.\(index)"))
            }
        }
        try await store.read { db in
            let all = try db.events(operationID: first, after: 0, limit: 10)
            XCTAssertEqual(all.map(\.kind), ["test.0", "test.2", "test.4"])
            XCTAssertEqual(all.compactMap(\.sequence), all.compactMap(\.sequence).sorted())
            let rest = try db.events(operationID: first, after: all[0].sequence!, limit: 1)
            XCTAssertEqual(rest.map(\.kind), ["test.2"], "after a sequence number, at most `limit`")
        }
    }

    /// Pages run in id order after a token; a party sees the meetings it is invited to, newest first.
    @Sendable public func pagesAndVisibility() async throws {
        let store = try await makeStore()
        let (parties, meetings) = try await store.write { db in
            let parties = try (0..<5).map { try db.insert(PartyRecord(name: "Party \($0)", kind: .memberState, roles: [])) }
            let operation = try Self.operation(db, name: "UNMIX")
            let meetings = try (0..<3).map { index in
                try db.insert(MeetingRecord(operationID: operation.id!, form: .consultationMeeting, isPublic: false,
                                            stage: .mandateRenewal, requestID: nil, scheduledAt: 1_000 + Int64(index),
                                            convenedBy: parties[0].id!, topics: [], paper: nil, missionOfficials: [],
                                            summaryOverrideReason: nil, createdAt: 1))
            }
            for meeting in [meetings[0], meetings[2]] {
                try db.insert(InvitationRecord(meetingID: meeting.id!, invitation: ProposedInvitation(
                    partyID: parties[1].id!, category: .troopPoliceContributor, role: .participant, required: true)))
            }
            return (parties, meetings)
        }
        try await store.read { db in
            let page = try db.parties(Page(after: parties[1].id!, size: 2))
            XCTAssertEqual(page.map(\.name), ["Party 2", "Party 3"])
            let invited = try db.meetings(operationID: nil, visibleTo: (parties[1].id!, []), beforeID: .max, limit: 10)
            XCTAssertEqual(invited.map(\.id), [meetings[2].id, meetings[0].id], "invited meetings, newest first")
            XCTAssertEqual(try db.meetings(operationID: nil, visibleTo: (parties[2].id!, []), beforeID: .max, limit: 10).count, 0)
            let counting = try db.meetings(operationID: nil, visibleTo: (parties[1].id!, [InvitationCategory.council.rawValue]),
                                           beforeID: .max, limit: 10)
            XCTAssertEqual(counting.count, 2, "invitations in the other categories count")
            XCTAssertEqual(try db.meetings(operationID: nil, visibleTo: (parties[1].id!, [InvitationCategory.troopPoliceContributor.rawValue]),
                                           beforeID: .max, limit: 10).count, 0, "none in a category that does not count")
            let older = try db.meetings(operationID: nil, visibleTo: nil, beforeID: meetings[2].id!, limit: 1)
            XCTAssertEqual(older.map(\.id), [meetings[1].id])
        }
    }

    /// Statuses and forms are stored as what they are, and requests filter by status.
    @Sendable public func storedStatusesComeBackAsTheyWereWritten() async throws {
        let store = try await makeStore()
        let (meetingID, declined) = try await store.write { db in
            let party = try db.insert(PartyRecord(name: "Troops", kind: .memberState, roles: []))
            let operation = try Self.operation(db, name: "UNMIX")
            var meeting = try db.insert(MeetingRecord(
                operationID: operation.id!, form: .councilMeeting, isPublic: true, stage: nil, requestID: nil, scheduledAt: 5,
                convenedBy: party.id!, topics: [], paper: nil, missionOfficials: [], summaryOverrideReason: nil, createdAt: 1))
            meeting.status = .held
            try db.update(meeting)
            var summary = SummaryRecord(meetingID: meeting.id!, text: "Summary", preparedBy: party.id!, preparedAt: 6)
            summary.status = .circulated
            try db.save(summary)
            _ = try db.insert(MeetingRequestRecord(operationID: operation.id!, requestedBy: party.id!, form: .consultationMeeting,
                                                   reason: "pending", concerns: [], createdAt: 2))
            var request = try db.insert(MeetingRequestRecord(operationID: operation.id!, requestedBy: party.id!,
                                                             form: .councilMeeting, reason: "declined", concerns: [], createdAt: 3))
            request.status = .declined
            try db.update(request)
            return (meeting.id!, request.id!)
        }
        try await store.read { db in
            let meeting = try XCTUnwrap(try db.meeting(id: meetingID))
            XCTAssertEqual(meeting.status, .held)
            XCTAssertEqual(meeting.form, .councilMeeting)
            XCTAssertNil(meeting.stage)
            XCTAssertEqual(try db.summary(meetingID: meetingID)?.status, .circulated)
            XCTAssertEqual(try db.requests(operationID: nil, status: .declined).map(\.id), [declined])
            XCTAssertEqual(try db.requests(operationID: nil, status: .pending).map(\.reason), ["pending"])
            XCTAssertEqual(try db.requests(operationID: nil, status: nil).count, 2)
        }
    }

    /// An upload's pieces are removed with it while it is incomplete; a complete one stays.
    @Sendable public func incompleteAttachmentsAreRemovedAndCompleteOnesKept() async throws {
        let store = try await makeStore()
        let (complete, incomplete) = try await store.write { db in
            let party = try db.insert(PartyRecord(name: "Secretariat", kind: .secretariat, roles: [.secretariatStaff]))
            let operation = try Self.operation(db, name: "UNMIX")
            let meeting = try db.insert(MeetingRecord(
                operationID: operation.id!, form: .secretariatMeeting, isPublic: false, stage: nil, requestID: nil, scheduledAt: 5,
                convenedBy: party.id!, topics: [], paper: nil, missionOfficials: [], summaryOverrideReason: nil, createdAt: 1))
            var attachments: [AttachmentRecord] = []
            for name in ["done.pdf", "cut-off.pdf"] {
                let attachment = try db.insert(AttachmentRecord(meetingID: meeting.id!, fileName: name, contentType: "application/pdf",
                                                                uploadedBy: party.id!, createdAt: 10))
                try db.appendAttachmentChunk(attachmentID: attachment.id!, position: 0, data: [1, 2, 3])
                attachments.append(attachment)
            }
            attachments[0].complete = true
            try db.update(attachments[0])
            return (attachments[0].id!, attachments[1].id!)
        }
        _ = try await store.write { db in try db.deleteIncompleteAttachment(id: complete) }
        _ = try await store.write { db in try db.deleteIncompleteAttachment(id: incomplete) }
        try await store.read { db in
            XCTAssertEqual(try db.attachmentChunk(attachmentID: complete, position: 0), [1, 2, 3])
            XCTAssertNil(try db.attachment(id: incomplete))
            XCTAssertNil(try db.attachmentChunk(attachmentID: incomplete, position: 0))
        }
    }

    /// II.B.1: one Council President at a time, whatever writes the store (the services check it
    /// first; the store is the backstop): a second one is refused with `StoreError.ruleViolated`
    /// and the write leaves nothing, while a handover in one transaction goes through.
    @Sendable public func oneCouncilPresidentWhateverWritesTheStore() async throws {
        let store = try await makeStore()
        let (president, member) = try await store.write { db in
            (try db.insert(PartyRecord(name: "Norland", kind: .memberState, roles: [.councilPresident])),
             try db.insert(PartyRecord(name: "Estmark", kind: .memberState, roles: [.councilMember])))
        }
        let attempts: [(String, @Sendable (any StoreWriter) throws -> Void)] = [
            ("a new party", { db in _ = try db.insert(PartyRecord(name: "Calvania", kind: .memberState, roles: [.councilPresident])) }),
            ("a member made President", { db in
                try db.update(PartyRecord(id: member.id, name: member.name, kind: .memberState, roles: [.councilPresident, .councilMember]))
            }),
        ]
        for (what, attempt) in attempts {
            do {
                try await store.write { db in try attempt(db) }
                XCTFail("\(what): a second Council President was stored")
            } catch StoreError.ruleViolated(let message) {
                XCTAssertTrue(message.contains("II.B.1"), message)
            }
        }
        try await store.write { db in
            try db.update(PartyRecord(id: president.id, name: president.name, kind: .memberState, roles: [.councilMember]))
            try db.update(PartyRecord(id: member.id, name: member.name, kind: .memberState, roles: [.councilPresident]))
        }
        try await store.read { db in
            let presidents = try db.allParties().filter(\.party.isPresident)
            XCTAssertEqual(presidents.map(\.name), ["Estmark"], "handed over in one transaction; nothing of the refused writes")
            XCTAssertNil(try db.party(named: "Calvania"))
        }
    }

    static func operation(_ db: any StoreWriter, name: String) throws -> OperationRecord {
        try db.insert(OperationRecord(name: name, mandate: "Monitor the ceasefire", useOfForce: "Self-defence",
                                      phase: .planning, hostCountryID: nil, createdAt: 1))
    }

    static func event(_ operationID: Int64, _ kind: String) -> EventRecord {
        EventRecord(operationID: operationID, kind: kind, subjectID: "", description: "", meetingID: nil, time: 1)
    }
}
