import ConveneClient
import ConveneProtos
import ConveneRPC
import ConveneTesting
import Foundation
import XCTest

/// Three `convened` on one PostgreSQL database: a write acknowledged by one is read by the
/// others at once, a watcher on any server sees every server's events in order, none lost or
/// repeated, and a server killed during writes loses nothing it acknowledged and comes back.
final class ClusterTests: XCTestCase {
    /// Writers through each server at once; a watcher on each server. Every watcher receives every
    /// write's event, once, in the same (sequence) order; and each write is read back at once
    /// through another server.
    func testWritesThroughEachServerReachWatchersOnEveryOtherInOrder() async throws {
        let cluster = try await Cluster.start()
        addTeardownBlock { await cluster.shutDown() }
        let operationID = try await cluster.makeOperation()
        var watchers: [Watcher] = []
        for client in cluster.clients {
            watchers.append(try await Watcher(client, operationID: operationID, token: cluster.token("Secretariat")))
        }
        let perServer = 15
        let written = try await withThrowingTaskGroup(of: [String].self) { group in
            for (index, client) in cluster.clients.enumerated() {
                group.addTask {
                    var ids: [String] = []
                    for round in 0..<perServer {
                        let id = try await cluster.contribute(Int64(1_000 * (index + 1) + round), to: operationID, through: client)
                        ids.append(id)
                        // Read-your-writes across servers: the next server has it at once.
                        let other = cluster.clients[(index + 1) % cluster.clients.count]
                        let seen = try await other.consultation.listContributions(.with { $0.operationID = operationID },
                                                                                  options: cluster.options("Secretariat"))
                        XCTAssertTrue(seen.contributions.contains { $0.id == id }, "a write acknowledged by one server is read by another")
                    }
                    return ids
                }
            }
            return try await group.reduce(into: Set<String>()) { $0.formUnion($1) }
        }
        XCTAssertEqual(written.count, perServer * cluster.clients.count)
        for (index, watcher) in watchers.enumerated() {
            let complete = await watcher.wait { events in written.isSubset(of: Set(events.map(\.subjectID))) }
            XCTAssertTrue(complete, "watcher on server \(index) missed \(written.subtracting(watcher.events.map(\.subjectID)))")
            let sequences = watcher.events.map(\.sequence)
            XCTAssertEqual(sequences, sequences.sorted(), "watcher on server \(index): in sequence order")
            XCTAssertEqual(Set(sequences).count, sequences.count, "watcher on server \(index): none twice")
        }
        let lists = watchers.map { $0.events.map(\.sequence) }
        let shortest = lists.map(\.count).min() ?? 0
        for list in lists { XCTAssertEqual(Array(list.prefix(shortest)), Array(lists[0].prefix(shortest)), "every watcher sees one order") }
        for watcher in watchers { watcher.cancel() }
    }

    /// Writers on every server; one server is SIGKILLed part-way. The others go on without an
    /// error; every write any server acknowledged is in the log once (what the killed one did
    /// not acknowledge may or may not be); the killed server comes back on its port and serves
    /// again, and a watcher on it reads the same history.
    func testAServerKilledDuringWritesLosesNothingItAcknowledgedAndComesBack() async throws {
        let cluster = try await Cluster.start()
        addTeardownBlock { await cluster.shutDown() }
        let operationID = try await cluster.makeOperation()
        let watcher = try await Watcher(cluster.clients[2], operationID: operationID, token: cluster.token("Secretariat"))
        let victim = cluster.servers[1]
        let rounds = 24, killAfter = 8
        let acknowledged = try await withThrowingTaskGroup(of: Set<String>.self) { group in
            for (index, client) in cluster.clients.enumerated() {
                group.addTask {
                    var ids = Set<String>()
                    for round in 0..<rounds {
                        if index == 1 && round == killAfter { await victim.kill() }
                        do {
                            ids.insert(try await cluster.contribute(Int64(1_000 * (index + 1) + round), to: operationID, through: client))
                        } catch let error as RPCError where index == 1 && round >= killAfter {
                            XCTAssertEqual(error.code, .unavailable, "the killed server's calls fail as unavailable")
                        }
                    }
                    return ids
                }
            }
            return try await group.reduce(into: Set<String>()) { $0.formUnion($1) }
        }
        XCTAssertGreaterThanOrEqual(acknowledged.count, 2 * rounds + killAfter, "the surviving servers took every write")
        XCTAssertFalse(victim.isRunning)

        try await victim.restart()
        let restarted = victim.client()
        defer { Task { await restarted.close() } }
        var afterRestart = Set<String>()
        for round in 0..<5 {
            afterRestart.insert(try await cluster.contribute(Int64(9_000 + round), to: operationID, through: restarted))
        }
        let all = acknowledged.union(afterRestart)
        let complete = await watcher.wait { events in all.isSubset(of: Set(events.map(\.subjectID))) }
        XCTAssertTrue(complete, "the watcher on a surviving server missed \(all.subtracting(watcher.events.map(\.subjectID)))")
        let sequences = watcher.events.map(\.sequence)
        XCTAssertEqual(sequences, sequences.sorted())
        XCTAssertEqual(Set(sequences).count, sequences.count, "no event twice")

        // A new watcher on the restarted server reads the same history from the log.
        let fresh = try await Watcher(restarted, operationID: operationID, token: cluster.token("Secretariat"))
        let caughtUp = await fresh.wait { $0.count >= sequences.count }
        XCTAssertTrue(caughtUp)
        XCTAssertEqual(Array(fresh.events.map(\.sequence).prefix(sequences.count)), sequences)
        fresh.cancel()
        watcher.cancel()
    }

    /// A credential revoked on one server is refused by every server on the next call, and a
    /// stream open with it on another server ends (UNAUTHENTICATED) at the revocation.
    func testARevocationOnOneServerReachesEveryServer() async throws {
        let cluster = try await Cluster.start()
        addTeardownBlock { await cluster.shutDown() }
        let operationID = try await cluster.makeOperation()
        let issued = try await cluster.clients[0].administration.issueCredential(.with {
            $0.partyID = cluster.id("Secretariat"); $0.label = "to revoke"
        }, options: cluster.admin)
        let stream = try await cluster.clients[2].consultation.watchOperation(.with { $0.operationID = operationID },
                                                                               options: .bearer(issued.token))
        let ended = Task { () -> StatusCode in
            do {
                for try await _ in stream.responses {}
                return .ok
            } catch let error as RPCError {
                return error.code
            }
        }
        for client in cluster.clients {
            _ = try await client.consultation.getOperation(.with { $0.operationID = operationID }, options: .bearer(issued.token))
        }
        _ = try await cluster.clients[1].administration.revokeCredential(.with { $0.credentialID = issued.credentialID },
                                                                          options: cluster.admin)
        for client in cluster.clients {
            await assertRPCError(.unauthenticated) {
                try await client.consultation.getOperation(.with { $0.operationID = operationID }, options: .bearer(issued.token))
            }
        }
        let code = try await withThrowingTaskGroup(of: StatusCode?.self) { group in
            group.addTask { try await ended.value }
            group.addTask { try await Task.sleep(for: .seconds(60)); return nil }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
        XCTAssertEqual(code, .unauthenticated, "the stream on another server ends at the revocation")
    }
}
