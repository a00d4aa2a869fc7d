import ConveneDomain
import ConveneStore
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
                        "v4-plugin-principals", "v4-plugin-event-audiences", "v5-committee-event-audiences"])
        XCTAssertEqual(try reopened.integrityCheck(), "ok")
    }
}
