import ConveneClient
import ConveneProtos
import ConveneRPC
import ConveneTesting
import Foundation
import XCTest

/// Plugins on a cluster: every server loads them, but each plugin reacts to each event once
/// for the cluster (the task force plugin forms one task force per planned operation, the
/// Military Staff Committee plugin opens one review per change of the authorization to use
/// force), whichever server committed the event; and when the server delivering a plugin's
/// events dies, another takes over and nothing is lost or repeated.
final class ClusterPluginTests: XCTestCase {
    /// A plugin call may run 2 s: a dead server's lease holds the others off 12 s.
    static let arguments = ["--plugin-call-seconds", "2"]

    /// What an operation's reactions must be.
    struct Planned: Sendable {
        var operationID: String
        var firstPlanningMeetingID: String
        var forceChanges: Int
    }

    /// An operation through one server, its two planning meetings through the next, its two
    /// changes of the authorization to use force through the one after.
    static func plan(_ cluster: Cluster, _ name: String, through clients: [ConveneClient]) async throws -> Planned {
        let operation = try await clients[0].consultation.createOperation(.with {
            $0.name = name; $0.mandate = "Observe"; $0.useOfForce = "force-0"; $0.phase = .planning
        }, options: cluster.options("Secretariat"))
        var meetings: [String] = []
        for index in 0..<2 {
            meetings.append(try await clients[1 % clients.count].consultation.conveneMeeting(.with {
                $0.operationID = operation.id; $0.form = .consultationMeeting; $0.stage = .missionPlanning
                $0.scheduledTime = .init(seconds: 1_800_000_000 + Int64(index))
                $0.informalPaper = .with { $0.agenda = "Concept of operations"; $0.issues = ["Force generation"] }
            }, options: cluster.options("President")).id)
        }
        for change in 1...2 {
            _ = try await clients[2 % clients.count].consultation.updateMandate(.with {
                $0.operationID = operation.id; $0.useOfForce = "force-\(change)"
            }, options: cluster.options("President"))
        }
        return Planned(operationID: operation.id, firstPlanningMeetingID: meetings[0], forceChanges: 2)
    }

    /// What is wrong with the reactions to `planned` (empty when each happened exactly once).
    func problems(_ planned: [Planned], _ cluster: Cluster, through client: ConveneClient) async -> [String] {
        var problems: [String] = []
        for plan in planned {
            let force = try? await client.missionTaskForces.getTaskForce(.with { $0.operationID = plan.operationID },
                                                                           options: cluster.options("Secretariat"))
            if force?.formedByMeetingID != plan.firstPlanningMeetingID {
                problems.append("\(plan.operationID): task force formed by \(force?.formedByMeetingID ?? "none")")
            }
            let reviews = (try? await client.militaryStaffCommittee.listReviews(.with { $0.operationID = plan.operationID },
                                                                                options: cluster.options("Secretariat")))?.reviews ?? []
            if reviews.count != plan.forceChanges {
                problems.append("\(plan.operationID): \(reviews.count) reviews for \(plan.forceChanges) changes")
            }
            let kinds = await eventKinds(plan.operationID, cluster, through: client)
            for (kind, expected) in [("imtf.formed", 1), ("msc.review_opened", plan.forceChanges)] {
                let count = kinds.filter { $0 == kind }.count
                if count != expected { problems.append("\(plan.operationID): \(count) \(kind) events, not \(expected)") }
            }
        }
        return problems
    }

    /// The kinds of an operation's events so far, read through a watch from the start.
    func eventKinds(_ operationID: String, _ cluster: Cluster, through client: ConveneClient) async -> [String] {
        guard let watcher = try? await Watcher(client, operationID: operationID, token: cluster.token("Secretariat")) else { return [] }
        defer { watcher.cancel() }
        // The domain events come first (1 + 2 contributions... at least the mandate changes).
        _ = await watcher.wait(timeout: .seconds(2)) { $0.count >= 5 }
        try? await Task.sleep(for: .milliseconds(200))
        return watcher.events.map(\.kind)
    }

    /// Waits (at most 90 s) until every reaction is there once, then a little longer to see that
    /// none comes twice.
    func assertReactedOnce(_ planned: [Planned], _ cluster: Cluster, through client: ConveneClient,
                           file: StaticString = #filePath, line: UInt = #line) async {
        let deadline = ContinuousClock.now.advanced(by: .seconds(90))
        var found = await problems(planned, cluster, through: client)
        while !found.isEmpty, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(500))
            found = await problems(planned, cluster, through: client)
        }
        XCTAssertEqual(found, [], file: file, line: line)
        try? await Task.sleep(for: .seconds(2))
        let later = await problems(planned, cluster, through: client)
        XCTAssertEqual(later, [], "a reaction came twice", file: file, line: line)
    }

    /// The servers whose log says they took `plugin`'s event lease.
    func deliverers(of plugin: String, _ cluster: Cluster) -> [Int] {
        cluster.servers.indices.filter { index in
            cluster.servers[index].log.split(separator: "\n").contains {
                $0.contains("holds the plugin's event lease") && $0.contains("plugin=\(plugin)")
            }
        }
    }

    func testEachPluginReactsOncePerEventWhicheverServerWroteIt() async throws {
        let cluster = try await Cluster.start(arguments: Self.arguments)
        addTeardownBlock { await cluster.shutDown() }
        let clients = cluster.clients
        let planned = try await withThrowingTaskGroup(of: Planned.self) { group in
            for index in 0..<6 {
                let turn = Array(clients[(index % 3)...] + clients[..<(index % 3)])
                group.addTask { try await ClusterPluginTests.plan(cluster, "UNOP-\(index)", through: turn) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        await assertReactedOnce(planned, cluster, through: clients[1])
        for plugin in ["mission-task-forces", "military-staff-committee"] {
            XCTAssertEqual(deliverers(of: plugin, cluster).count, 1, "one server delivers \(plugin)'s events")
        }
    }

    func testWhenTheDeliveringServerDiesAnotherTakesOverAndNothingIsLostOrRepeated() async throws {
        let cluster = try await Cluster.start(arguments: Self.arguments)
        addTeardownBlock { await cluster.shutDown() }
        var planned = [try await Self.plan(cluster, "UNOP-before", through: cluster.clients)]
        await assertReactedOnce(planned, cluster, through: cluster.clients[0])
        let holder = try XCTUnwrap(deliverers(of: "mission-task-forces", cluster).first, "a server delivers the task force's events")
        let survivors = cluster.clients.indices.filter { $0 != holder }.map { cluster.clients[$0] }

        // Killed while writes go on through the others (its reaction in progress, if any, is lost
        // with it and never committed): the events wait for the lease to expire, then another
        // server delivers each once.
        async let writes = withThrowingTaskGroup(of: Planned.self) { group in
            for index in 0..<4 {
                group.addTask { try await ClusterPluginTests.plan(cluster, "UNOP-during-\(index)", through: index % 2 == 0 ? survivors : survivors.reversed()) }
            }
            return try await group.reduce(into: [Planned]()) { $0.append($1) }
        }
        try await Task.sleep(for: .milliseconds(300))
        await cluster.servers[holder].kill()
        planned += try await writes
        await assertReactedOnce(planned, cluster, through: survivors[0])
        let now = deliverers(of: "mission-task-forces", cluster).filter { $0 != holder }
        XCTAssertEqual(now.count, 1, "another server took over the task force's events: \(now)")

        // Back again, it does not deliver a second time what was delivered.
        try await cluster.servers[holder].restart()
        let restarted = cluster.servers[holder].client()
        defer { Task { await restarted.close() } }
        planned.append(try await Self.plan(cluster, "UNOP-after", through: [restarted] + survivors))
        await assertReactedOnce(planned, cluster, through: restarted)
    }
}
