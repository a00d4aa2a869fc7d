import ConveneClient
import ConveneProtos
import ConveneRPC
import ConveneTesting
import ConveneTransport
import Foundation
import XCTest

/// Three (or `count`) `convened` on one fresh PostgreSQL database, with the parties of a small
/// operation registered: what a test of several servers starts from.
final class Cluster: @unchecked Sendable {
    let database: PostgresTestDatabase
    let servers: [ServerProcess]
    let clients: [ConveneClient]
    /// Party name to (public id, bearer token).
    private(set) var parties: [String: (id: String, token: String)] = [:]
    let adminToken: String

    static let partyList: [(String, Convene_Parties_V1_PartyKind, [Convene_Parties_V1_Role])] = [
        ("President", .memberState, [.councilPresident]),
        ("Member", .memberState, [.councilMember]),
        ("Second member", .memberState, [.councilMember]),
        ("Third member", .memberState, [.councilMember]),
        ("Secretariat", .secretariat, [.secretariatStaff]),
        ("Troops", .memberState, []),
        ("Police", .memberState, []),
    ]

    private init(database: PostgresTestDatabase, servers: [ServerProcess], adminToken: String) {
        self.database = database
        self.servers = servers
        self.adminToken = adminToken
        clients = servers.map { $0.client() }
    }

    /// The first server starts alone (it creates the administrator, writing its token); the others
    /// start together, as a rolling start would bring them; then the parties are registered.
    static func start(count: Int = 3, arguments: [String] = []) async throws -> Cluster {
        let database = try await PostgresTestDatabase.create()
        let servers = (0..<count).map { ServerProcess(name: "server\($0)", databaseURL: database.url, arguments: arguments) }
        do {
            try await servers[0].start()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for server in servers.dropFirst() { group.addTask { try await server.start() } }
                try await group.waitForAll()
            }
            guard let token = servers[0].adminToken else { throw ClusterError("the first server wrote no admin.token") }
            XCTAssertTrue(servers.dropFirst().allSatisfy { $0.adminToken == nil }, "one administrator for the cluster, created once")
            let cluster = Cluster(database: database, servers: servers, adminToken: token)
            try await cluster.registerParties()
            return cluster
        } catch {
            for server in servers { await server.remove() }
            throw error
        }
    }

    func options(_ party: String) -> CallOptions { .bearer(parties[party]?.token ?? "", timeout: .seconds(60)) }
    func id(_ party: String) -> String { parties[party]?.id ?? "" }
    func token(_ party: String) -> String { parties[party]?.token ?? "" }
    var admin: CallOptions { .bearer(adminToken, timeout: .seconds(60)) }

    /// Every party, each through another server.
    private func registerParties() async throws {
        for (index, (name, kind, roles)) in Self.partyList.enumerated() {
            let client = clients[index % clients.count]
            let party = try await client.administration.registerParty(.with { $0.name = name; $0.kind = kind; $0.roles = roles },
                                                                      options: admin)
            let credential = try await client.administration.issueCredential(.with { $0.partyID = party.id; $0.label = name },
                                                                             options: admin)
            parties[name] = (party.id, credential.token)
        }
    }

    /// An operation the Troops and the Police contribute to, registered by the Secretariat.
    func makeOperation(_ name: String = "UNMIX") async throws -> String {
        let operation = try await clients[0].consultation.createOperation(.with {
            $0.name = name
            $0.mandate = "Monitor the ceasefire"
            $0.useOfForce = "Self-defence only"
            $0.phase = .planning
        }, options: options("Secretariat"))
        for (index, party) in ["Troops", "Police"].enumerated() {
            _ = try await clients[index % clients.count].consultation.recordContribution(.with {
                $0.operationID = operation.id; $0.partyID = id(party); $0.kind = .troops; $0.quantity = 100
            }, options: options("Secretariat"))
        }
        return operation.id
    }

    /// Records a contribution of `quantity` (the write the cluster tests count) through `client`.
    func contribute(_ quantity: Int64, to operationID: String, through client: ConveneClient) async throws -> String {
        try await client.consultation.recordContribution(.with {
            $0.operationID = operationID; $0.partyID = id("Troops"); $0.kind = .troops; $0.quantity = quantity
            $0.description_p = "write \(quantity)"
        }, options: options("Secretariat")).id
    }

    /// Stops every server and removes their data directories.
    func shutDown() async {
        for client in clients { await client.close() }
        for server in servers { await server.remove() }
    }
}

/// An operation's events as one watcher receives them, collected until `enough` says so (or 60 s pass).
final class Watcher: @unchecked Sendable {
    private let received = Locked<[Convene_Consultation_V1_OperationEvent]>([])
    private var task: Task<Void, any Error>?
    private var call: TypedCall<Convene_Consultation_V1_WatchOperationRequest, Convene_Consultation_V1_OperationEvent>?

    /// Watches `operationID` through `client` from after `after`, as the party whose token it is
    /// (no deadline: the watch lasts until `cancel`).
    init(_ client: ConveneClient, operationID: String, after: Int64 = 0, token: String) async throws {
        let call = try await client.consultation.watchOperation(.with { $0.operationID = operationID; $0.afterSequence = after },
                                                                options: CallOptions.bearer(token))
        self.call = call
        task = Task { [received] in
            for try await event in call.responses { received.withLock { $0.append(event) } }
        }
    }

    var events: [Convene_Consultation_V1_OperationEvent] { received.withLock { $0 } }

    /// Waits (at most `timeout`) until the events received satisfy `enough`.
    func wait(timeout: Duration = .seconds(60), until enough: ([Convene_Consultation_V1_OperationEvent]) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            if enough(events) { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return enough(events)
    }

    /// Ends the watch, on the server too (a party holds a bounded number of watches open).
    func cancel() {
        task?.cancel()
        call?.cancel()
    }
}
