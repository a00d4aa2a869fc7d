import ConveneDomain
@testable import ConveneStore
import GRDB
import ConveneTesting
import Foundation
import XCTest

/// The SQLite store: the behaviour every store must have (StoreBehaviour), then what is its own.
final class SQLiteStoreTests: XCTestCase {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("convene-store-\(UUID().uuidString)").path

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: root)
    }

    var behaviour: StoreBehaviour {
        StoreBehaviour(
            makeStore: { [root] in try SQLiteStore(directory: root + "/" + UUID().uuidString) },
            committedEvents: { store, operationID in
                // A read on another connection of the pool, outside the writer's transaction.
                try XCTUnwrap(store as? SQLiteStore).syncRead { db in
                    try db.events(operationID: operationID, after: 0, limit: 1_000_000).compactMap(\.sequence)
                }
            })
    }

    /// Every check of the suite, each on a fresh store.
    func testBehavesAsEveryStoreMust() async throws {
        await behaviour.checkAll()
    }

    /// A store from before plugins' storage was counted: the migration counts what each held.
    func testTheStorageUsageMigrationCountsWhatEachPluginHeld() throws {
        let directory = root + "/older"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        do {
            let pool = try DatabasePool(path: (directory as NSString).appendingPathComponent("convene.sqlite"))
            try SQLiteSchema.migrator.migrate(pool, upTo: "v5-committee-event-audiences")
            try pool.write { db in
                try db.execute(sql: "INSERT INTO pluginStorage (plugin, key, value) VALUES ('a', x'01', x'0203'), ('a', x'0405', x''), ('b', x'06', x'07')")
            }
        }
        let store = try SQLiteStore(directory: directory)
        let overhead = PluginStorageUsage.entryOverhead
        XCTAssertEqual(try store.pluginStorageUsage(plugin: "a"), 3 + overhead + 2 + overhead)
        XCTAssertEqual(try store.pluginStorageUsage(plugin: "b"), 2 + overhead)
        XCTAssertEqual(try store.pluginStorageUsage(plugin: "c"), 0)
        // And it is kept from there.
        XCTAssertNotNil(try store.pluginCommit(plugin: "a", reads: [], writes: [(key: [1], value: nil)], events: []))
        XCTAssertEqual(try store.pluginStorageUsage(plugin: "a"), 2 + overhead)
    }

    /// What a write acknowledged is there when the store is opened again, schema and all.
    func testACommittedWriteOutlivesTheStore() async throws {
        let directory = root + "/reopened"
        do {
            let store = try SQLiteStore(directory: directory)
            _ = try await store.write { db in try db.insert(PartyRecord(name: "Durable", kind: .memberState, roles: [.councilMember])) }
        }
        let reopened = try SQLiteStore(directory: directory)
        let party = try await reopened.read { db in try db.party(named: "Durable") }
        XCTAssertEqual(party?.party.roles, [.councilMember])
        XCTAssertEqual(try reopened.appliedMigrations(),
                       ["v1: parties, operations, consultation", "v2: briefing and lessons learned", "v3: plugin storage",
                        "v4-one-president", "v4-meeting-timeline", "v4-event-audiences", "v4-plugin-event-positions",
                        "v4-plugin-principals", "v4-plugin-event-audiences", "v5-committee-event-audiences",
                        "v5-plugin-storage-usage"])
        XCTAssertEqual(try reopened.integrityCheck(), "ok")
    }
}
