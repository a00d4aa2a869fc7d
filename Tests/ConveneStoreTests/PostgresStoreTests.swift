import ConveneDomain
import ConvenePostgresStore
import ConveneRPC
import ConveneStore
import ConveneTesting
import Foundation
import Logging
import XCTest

/// The PostgreSQL store, on the private instance `make test` starts: the behaviour every store
/// must have (StoreBehaviour), then what sharing one database between servers asks of it. Two
/// stores on one database stand for two servers.
final class PostgresStoreTests: XCTestCase {
    static let logger: Logger = {
        var logger = Logger(label: "convene-test-postgres")
        logger.logLevel = ProcessInfo.processInfo.environment["CONVENE_TEST_LOG"].flatMap { Logger.Level(rawValue: $0) } ?? .critical
        return logger
    }()

    /// An opened store (migrated, listening) on `database`, telling `events` and `revoked` what others commit.
    static func store(on database: PostgresTestDatabase, events: EventBus = EventBus(),
                      revoked: @escaping @Sendable (Int64) -> Void = { _ in }) async throws -> PostgresStore {
        let store = PostgresStore(configuration: try database.configuration, logger: logger)
        try await store.open(signals: StoreSignals(events: events, revoked: revoked))
        return store
    }

    var behaviour: StoreBehaviour {
        StoreBehaviour(
            makeStore: { try await Self.store(on: try await PostgresTestDatabase.create()) },
            committedEvents: { store, operationID in
                // A transaction of its own, on another connection, outside the writer's.
                try XCTUnwrap(store as? PostgresStore).syncRead { db in
                    try db.events(operationID: operationID, after: 0, limit: 1_000_000).compactMap(\.sequence)
                }
            })
    }

    /// Every check of the suite, each on a fresh database.
    func testBehavesAsEveryStoreMust() async throws {
        _ = try PostgresTestDatabase.instanceURL()
        await behaviour.checkAll()
    }

    /// Servers starting at once on an empty database: one migrates, the others wait for it and
    /// find the schema done; none fails, and each migration is recorded once.
    func testServersStartingAtOnceMigrateOnce() async throws {
        let database = try await PostgresTestDatabase.create()
        let stores = try await withThrowingTaskGroup(of: PostgresStore.self) { group in
            for _ in 0..<4 { group.addTask { try await Self.store(on: database) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        for store in stores {
            let applied = try await store.appliedMigrations()
            XCTAssertEqual(applied, ["pg-v1: the schema of SQLite v4", "pg-v2: plugin event positions, delivery leases and principals",
                                     "pg-v3: plugin events recorded before plugins named their audience",
                                     "pg-v4: the Military Staff Committee's events for those who may list its reviews",
                                     "pg-v5: what each plugin's storage holds"])
        }
        for store in stores { await store.close() }
    }

    /// A rule read and written in one transaction holds across servers: increments of one
    /// operation's version, raced from two stores, are all kept (a conflict PostgreSQL detects
    /// is run again by the store, never reported).
    func testReadThenWriteFromTwoServersLosesNothing() async throws {
        let database = try await PostgresTestDatabase.create()
        let (a, b) = (try await Self.store(on: database), try await Self.store(on: database))
        let operationID = try await a.write { db in
            try db.insert(OperationRecord(name: "UNMIX", mandate: "", useOfForce: "", phase: .planning, hostCountryID: nil, createdAt: 1)).id!
        }
        let rounds = 20
        try await withThrowingTaskGroup(of: Void.self) { group in
            for round in 0..<rounds {
                let store = round % 2 == 0 ? a : b
                group.addTask {
                    try await store.write { db in
                        var operation = try XCTUnwrap(try db.operation(id: operationID))
                        operation.version += 1
                        try db.update(operation)
                    }
                }
            }
            try await group.waitForAll()
        }
        let version = try await b.read { db in try db.operation(id: operationID)?.version }
        XCTAssertEqual(version, 1 + Int64(rounds), "every increment kept")
        await a.close()
        await b.close()
    }

    /// II.B.1 across servers: parties made President at once from two stores; exactly one is
    /// stored, every other write is refused with the rule's words and leaves nothing.
    func testOnePresidentWhenServersRace() async throws {
        let database = try await PostgresTestDatabase.create()
        let (a, b) = (try await Self.store(on: database), try await Self.store(on: database))
        let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<8 {
                let store = index % 2 == 0 ? a : b
                group.addTask {
                    do {
                        _ = try await store.write { db in
                            try db.insert(PartyRecord(name: "Candidate \(index)", kind: .memberState, roles: [.councilPresident]))
                        }
                        return true
                    } catch StoreError.ruleViolated(let message) {
                        XCTAssertEqual(message, StoreError.onePresidentMessage)
                        return false
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(outcomes.filter { $0 }.count, 1, "exactly one President stored")
        let parties = try await a.read { db in try db.allParties() }
        XCTAssertEqual(parties.count, 1, "the refused writes left nothing")
        await a.close()
        await b.close()
    }

    /// Sequence numbers are in commit order, so a reader that goes on "after the last it saw"
    /// misses nothing: writers on two stores append while a reader follows, and what the reader
    /// collected is every event, in order.
    func testAReaderFollowingConcurrentWritersMissesNoEvent() async throws {
        let database = try await PostgresTestDatabase.create()
        let (a, b) = (try await Self.store(on: database), try await Self.store(on: database))
        let operationID = try await a.write { db in
            try db.insert(OperationRecord(name: "UNMIX", mandate: "", useOfForce: "", phase: .planning, hostCountryID: nil, createdAt: 1)).id!
        }
        let writersDone = Locked(false)
        let writers = Task {
            defer { writersDone.withLock { $0 = true } }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<6 {
                    let store = writer % 2 == 0 ? a : b
                    group.addTask {
                        for index in 0..<15 {
                            _ = try await store.write { db in
                                // Work between drawing the number and committing widens the window
                                // in which a later number could commit first.
                                let event = try db.append(EventRecord(operationID: operationID, kind: "test.\(writer).\(index)",
                                                                      subjectID: "", description: "", meetingID: nil, time: 1))
                                _ = try db.allParties()
                                return event
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        var seen: [Int64] = []
        for _ in 0..<100_000 {
            let done = writersDone.withLock { $0 }
            let batch = try await b.read { [last = seen.last ?? 0] db in try db.events(operationID: operationID, after: last, limit: 1000) }
            seen += batch.compactMap(\.sequence)
            if done && batch.isEmpty { break }
        }
        try await writers.value
        let all = try await a.read { db in try db.events(operationID: operationID, after: 0, limit: 1000).compactMap(\.sequence) }
        XCTAssertEqual(all.count, 90)
        XCTAssertEqual(seen, all, "the follower saw every event, in order, none twice")
        await a.close()
        await b.close()
    }

    /// Server B's watchers hear what server A commits (LISTEN/NOTIFY), and a revocation on A
    /// reaches B's streams.
    func testAnotherServersCommitsWakeThisServersWatchers() async throws {
        let database = try await PostgresTestDatabase.create()
        let busB = EventBus()
        let revokedOnB = Locked<[Int64]>([])
        let a = try await Self.store(on: database)
        let b = try await Self.store(on: database, events: busB, revoked: { id in revokedOnB.withLock { $0.append(id) } })
        let (operationID, credentialID) = try await a.write { db in
            let party = try db.insert(PartyRecord(name: "Norland", kind: .memberState, roles: []))
            let credential = try db.insert(CredentialRecord(partyID: party.id!, tokenHash: "hash", label: "", createdAt: 1))
            let operation = try db.insert(OperationRecord(name: "UNMIX", mandate: "", useOfForce: "", phase: .planning,
                                                          hostCountryID: nil, createdAt: 1))
            return (operation.id!, credential.id!)
        }
        let woken = busB.subscribe(operationID: operationID)
        try await a.write(publishingTo: EventBus()) { _, events in
            events.append(EventRecord(operationID: operationID, kind: "test.committed", subjectID: "", description: "",
                                      meetingID: nil, time: 1))
        }
        var iterator = woken.makeAsyncIterator()
        let signal = await iterator.next()
        let committed = try await b.read { db in try db.events(operationID: operationID, after: 0, limit: 10) }
        XCTAssertEqual(committed.map(\.kind), ["test.committed"])
        XCTAssertEqual(signal, committed.first?.sequence, "B's watcher is told the sequence A committed")

        try await a.write { db in
            var credential = try XCTUnwrap(try db.credential(id: credentialID))
            credential.revokedAt = 2
            try db.update(credential)
        }
        let heard = await eventually { revokedOnB.withLock { $0 } == [credentialID] }
        XCTAssertTrue(heard, "B hears of the revocation committed on A")
        await a.close()
        await b.close()
    }

    /// One server at a time delivers a plugin's events: the lease is refused to the others while
    /// its holder renews it, taken over when it expires (a holder that died), and free at once
    /// when given up.
    func testOneServerAtATimeHoldsAPluginsEventLease() async throws {
        let database = try await PostgresTestDatabase.create()
        let a = try await Self.store(on: database), b = try await Self.store(on: database)
        XCTAssertNotEqual(a.leaseHolder, b.leaseHolder)
        XCTAssertTrue(try a.holdPluginEventLease(plugin: "taskforce", for: .seconds(60)))
        XCTAssertFalse(try b.holdPluginEventLease(plugin: "taskforce", for: .seconds(60)), "A holds it")
        XCTAssertTrue(try b.holdPluginEventLease(plugin: "msc", for: .seconds(60)), "a lease per plugin")
        XCTAssertTrue(try a.holdPluginEventLease(plugin: "taskforce", for: .milliseconds(1)), "A renews it, briefly")
        try await Task.sleep(for: .milliseconds(50))
        XCTAssertTrue(try b.holdPluginEventLease(plugin: "taskforce", for: .seconds(60)), "expired: B takes over")
        XCTAssertFalse(try a.holdPluginEventLease(plugin: "taskforce", for: .seconds(60)), "and A no longer has it")
        try a.releasePluginEventLease(plugin: "taskforce")
        XCTAssertFalse(try a.holdPluginEventLease(plugin: "taskforce", for: .seconds(60)), "A cannot give up what B holds")
        try b.releasePluginEventLease(plugin: "taskforce")
        XCTAssertTrue(try a.holdPluginEventLease(plugin: "taskforce", for: .seconds(60)), "given up: free at once")

        // Both servers start a subscription at once: one position, at the log's end.
        async let first = Task.detached { try a.pluginEventPosition(plugin: "new") }.value
        async let second = Task.detached { try b.pluginEventPosition(plugin: "new") }.value
        let (one, other) = try await (first, second)
        XCTAssertEqual(one, other)
        await a.close()
        await b.close()
    }
}
