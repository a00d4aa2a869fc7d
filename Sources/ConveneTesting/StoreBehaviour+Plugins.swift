import ConveneDomain
import ConveneStore
import Foundation
import XCTest

/// What every store must do for plugins' durable event subscriptions: a position that starts at
/// the log's end and moves only from where it is (so a reaction commits once, whichever server
/// ran it), domain events read in order without plugins' own, and a delivery lease.
extension StoreBehaviour {
    static let subscriber = "subscriber"

    @Sendable public func pluginEventPositionsMoveOnceFromWhereTheyAre() async throws {
        let store = try await makeStore()
        let plugins = try XCTUnwrap(store as? any PluginStore, "a server's store keeps plugin state")
        let operation = try await store.write { db in try Self.operation(db, name: "Watched").id! }
        let before = try await store.write { db in try db.append(Self.event(operation, "before")).sequence! }
        let start = try plugins.pluginEventPosition(plugin: Self.subscriber)
        XCTAssertEqual(start, before, "a new subscriber starts at the log's end")
        XCTAssertEqual(try plugins.pluginEventPosition(plugin: Self.subscriber), start, "and stays there until it moves")

        try await store.write { db in
            _ = try db.append(Self.event(operation, "first"))
            var own = Self.event(operation, "first")
            own.subjectID = "plugin:other"
            _ = try db.append(own)
            _ = try db.append(Self.event(operation, "second"))
            _ = try db.append(Self.event(operation, "third"))
        }
        let all = try plugins.domainEvents(after: start, kinds: ["*"], limit: 10)
        XCTAssertEqual(all.map(\.kind), ["first", "second", "third"], "in order, without plugins' events")
        XCTAssertEqual(try plugins.domainEvents(after: start, kinds: ["third", "first"], limit: 10).map(\.kind), ["first", "third"])
        XCTAssertEqual(try plugins.domainEvents(after: start, kinds: ["*"], limit: 1).map(\.kind), ["first"])
        XCTAssertEqual(try plugins.domainEvents(after: all[2].sequence!, kinds: ["*"], limit: 10).count, 0)

        // Two servers reacting to the first event: the first commit moves the position, the
        // second (from the same position) commits nothing, neither its writes nor its events.
        let reaction = { (value: UInt8) in
            try plugins.pluginCommit(plugin: Self.subscriber, reads: [], listings: [], writes: [(key: [1], value: [value])],
                                     events: [Self.event(operation, "reaction.\(value)")],
                                     position: (from: start, to: all[0].sequence!))
        }
        XCTAssertEqual(try reaction(1)?.map(\.kind), ["reaction.1"])
        XCTAssertNil(try reaction(2), "a second reaction to the same event")
        XCTAssertEqual(try plugins.pluginGet(plugin: Self.subscriber, key: [1]), [1])
        XCTAssertEqual(try plugins.pluginEventPosition(plugin: Self.subscriber), all[0].sequence!)
        let kinds = try await store.read { db in try db.events(operationID: operation, after: 0, limit: 100).map(\.kind) }
        XCTAssertEqual(kinds.filter { $0.hasPrefix("reaction.") }, ["reaction.1"])
        XCTAssertEqual(try plugins.pluginEventPosition(plugin: "another"), try plugins.domainEvents(after: 0, kinds: ["*"], limit: 100).last?.sequence,
                       "each plugin has a position of its own")
    }

    /// A call that listed keys under a prefix commits only while the listing would find the
    /// same keys: one added or removed in between makes it run again, as a changed value does
    /// (a call counted two keys, another added a third, and the count of two was committed).
    @Sendable public func aPluginCommitChecksTheKeysItListed() async throws {
        let store = try await makeStore()
        let plugins = try XCTUnwrap(store as? any PluginStore)
        let lister = "lister"
        XCTAssertNotNil(try plugins.pluginCommit(plugin: lister, reads: [], listings: [],
                                                 writes: [(key: Array("m/1".utf8), value: [1]), (key: Array("m/2".utf8), value: [2])],
                                                 events: [], position: nil))
        // What a call listing "m/" saw: m/1, then m/2, then nothing.
        let prefix = Array("m/".utf8)
        let listed: [PluginListing] = [(prefix, nil, Array("m/1".utf8)), (prefix, Array("m/1".utf8), Array("m/2".utf8)),
                                       (prefix, Array("m/2".utf8), nil)]
        let count = { try plugins.pluginCommit(plugin: lister, reads: [], listings: listed,
                                                 writes: [(key: Array("count".utf8), value: [2])], events: [], position: nil) }
        XCTAssertNotNil(try count(), "nothing changed under the prefix")
        // Another call adds m/3 (and one outside the prefix, which changes nothing listed).
        XCTAssertNotNil(try plugins.pluginCommit(plugin: lister, reads: [], listings: [],
                                                 writes: [(key: Array("m/3".utf8), value: [3]), (key: Array("n/1".utf8), value: [1])],
                                                 events: [], position: nil))
        XCTAssertNil(try count(), "a key added after the last one listed")
        // A key added between two listed, or one listed and removed, is a change as well.
        let middle: [PluginListing] = [(prefix, Array("m/1".utf8), Array("m/2".utf8))]
        XCTAssertNotNil(try plugins.pluginCommit(plugin: lister, reads: [], listings: middle, writes: [], events: [], position: nil))
        XCTAssertNotNil(try plugins.pluginCommit(plugin: lister, reads: [], listings: [],
                                                 writes: [(key: Array("m/15".utf8), value: [15])], events: [], position: nil))
        XCTAssertNil(try plugins.pluginCommit(plugin: lister, reads: [], listings: middle, writes: [], events: [], position: nil))
        XCTAssertNotNil(try plugins.pluginCommit(plugin: lister, reads: [], listings: [],
                                                 writes: [(key: Array("m/15".utf8), value: nil), (key: Array("m/2".utf8), value: nil)],
                                                 events: [], position: nil))
        XCTAssertNil(try plugins.pluginCommit(plugin: lister, reads: [], listings: middle, writes: [], events: [], position: nil))
        XCTAssertEqual(try plugins.pluginGet(plugin: lister, key: Array("count".utf8)), [2], "the refused commits wrote nothing")
    }

    /// What a plugin's storage holds is kept with its keys, per plugin: a commit that would take
    /// it past its limit commits nothing (neither its writes nor its events), and one that
    /// adds nothing (a delete, a smaller value) is taken even over the limit.
    @Sendable public func aPluginsStorageIsCountedAndBounded() async throws {
        let store = try await makeStore()
        let plugins = try XCTUnwrap(store as? any PluginStore)
        let operation = try await store.write { db in try Self.operation(db, name: "Counted").id! }
        let overhead = PluginStorageUsage.entryOverhead
        let commit = { (plugin: String, writes: [(key: [UInt8], value: [UInt8]?)], limit: Int64?) in
            try plugins.pluginCommit(plugin: plugin, reads: [], listings: [], writes: writes,
                                     events: [Self.event(operation, "counted")], position: nil, storageLimit: limit)
        }
        XCTAssertEqual(try plugins.pluginStorageUsage(plugin: "counted"), 0, "a plugin that never wrote holds nothing")
        XCTAssertNotNil(try commit("counted", [([1], Array(repeating: 7, count: 100)), ([2, 2], [])], 1000))
        XCTAssertEqual(try plugins.pluginStorageUsage(plugin: "counted"), 1 + 100 + overhead + 2 + overhead)
        let before = try plugins.pluginStorageUsage(plugin: "counted")
        do {
            _ = try commit("counted", [([3], Array(repeating: 7, count: 800)), ([2, 2], nil)], 1000)
            XCTFail("a commit past the limit")
        } catch let full as PluginStorageLimitExceeded {
            XCTAssertEqual(full, PluginStorageLimitExceeded(plugin: "counted", bytes: before + 1 + 800 + overhead - 2 - overhead, limit: 1000))
        }
        XCTAssertEqual(try plugins.pluginStorageUsage(plugin: "counted"), before, "nothing of the refused commit")
        XCTAssertNil(try plugins.pluginGet(plugin: "counted", key: [3]))
        XCTAssertEqual(try plugins.pluginGet(plugin: "counted", key: [2, 2]), [], "its delete was not committed either")
        let events = try await store.read { db in try db.events(operationID: operation, after: 0, limit: 100) }
        XCTAssertEqual(events.count, 1, "nor its event")
        // Over a lower limit now, a smaller value and a delete are still taken; a larger one is not.
        XCTAssertNotNil(try commit("counted", [([1], Array(repeating: 7, count: 10))], 10))
        XCTAssertEqual(try plugins.pluginStorageUsage(plugin: "counted"), 1 + 10 + overhead + 2 + overhead)
        XCTAssertThrowsError(try commit("counted", [([1], Array(repeating: 7, count: 11))], 10))
        XCTAssertNotNil(try commit("counted", [([1], nil), ([2, 2], nil), ([9], nil)], 10))
        XCTAssertEqual(try plugins.pluginStorageUsage(plugin: "counted"), 0)
        // Each plugin is counted apart; no limit is no limit.
        XCTAssertNotNil(try commit("other", [([1], Array(repeating: 7, count: 5000))], nil))
        XCTAssertEqual(try plugins.pluginStorageUsage(plugin: "other"), 1 + 5000 + overhead)
        XCTAssertEqual(try plugins.pluginStorageUsage(plugin: "counted"), 0)
    }

    /// The store that decides which server delivers answers this one while it holds the lease;
    /// given up, the lease is free again.
    @Sendable public func aPluginEventLeaseIsHeldRenewedAndGivenUp() async throws {
        let store = try await makeStore()
        let plugins = try XCTUnwrap(store as? any PluginStore)
        XCTAssertTrue(try plugins.holdPluginEventLease(plugin: Self.subscriber, for: .seconds(30)))
        XCTAssertTrue(try plugins.holdPluginEventLease(plugin: Self.subscriber, for: .seconds(30)), "renewed by its holder")
        try plugins.releasePluginEventLease(plugin: Self.subscriber)
        XCTAssertTrue(try plugins.holdPluginEventLease(plugin: Self.subscriber, for: .seconds(30)))
    }

    /// A store with a credentials version changes it when a credential is revoked (a cache of
    /// who a credential is must notice); one without (shared) caches nothing.
    @Sendable public func aRevocationChangesTheCredentialsVersion() async throws {
        let store = try await makeStore()
        let plugins = try XCTUnwrap(store as? any PluginStore)
        let credential = try await store.write { db in
            let party = try db.insert(PartyRecord(name: "Holder", kind: .memberState, roles: [.councilMember]))
            return try db.insert(CredentialRecord(partyID: party.id!, tokenHash: "hash", label: "holder", createdAt: 1))
        }
        guard let before = plugins.credentialsVersion else { return }
        try await store.write { db in
            var revoked = credential
            revoked.revokedAt = 2
            try db.update(revoked)
        }
        XCTAssertNotEqual(plugins.credentialsVersion, before)
    }
}
