@testable import ConveneClient
import ConveneProtos
import ConveneRPC
import ConveneServer
import ConveneTesting
import ConveneTransport
import Foundation
import NIOPosix
import XCTest

/// The client over several servers: targets as a list or a name with several addresses, calls
/// spread over them, a server that goes away left for the others, and a call a server provably
/// did not process tried on another. Servers in this process, on loopback.
final class MultiTargetClientTests: XCTestCase {
    var servers: [TestServer] = []

    override func tearDown() async throws {
        for server in servers { await server.stop() }
        servers = []
    }

    func startServers(_ count: Int, _ configure: @escaping (Int, inout ServerConfiguration) -> Void = { _, _ in }) async throws {
        // The calls are the benchmark's echo, open to anyone on these servers (a lab's setting).
        for index in 0..<count {
            servers.append(try await TestServer.start { $0.openBenchmark = true; configure(index, &$0) })
        }
    }

    static func echo(_ client: ConveneClient) async throws {
        _ = try await client.benchmark.echo([1, 2, 3], options: CallOptions(timeout: .seconds(30)))
    }

    /// `count` calls at once.
    static func echoes(_ count: Int, at client: ConveneClient) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<count { group.addTask { try await echo(client) } }
            try await group.waitForAll()
        }
    }

    func testTargetsAreParsedAndBadOnesNamed() throws {
        XCTAssertEqual(try Target.list("a.example:7353, 10.0.0.2:7354,[::1]:7355"),
                       [Target(host: "a.example", port: 7353), Target(host: "10.0.0.2", port: 7354), Target(host: "::1", port: 7355)])
        for (text, words) in [("a.example", "is not HOST:PORT"), ("a:0", "is not HOST:PORT"), (":7353", "names no host"),
                              ("a:1,", "is not HOST:PORT"), ("a:x", "is not HOST:PORT")] {
            XCTAssertThrowsError(try Target.list(text), text) { error in
                XCTAssertEqual((error as? RPCError)?.code, .invalidArgument)
                XCTAssertTrue((error as? RPCError)?.message.contains(words) ?? false, "\(text): \(error)")
            }
        }
        XCTAssertEqual(Target.lookUp("localhost", port: 7353).first { $0 == "127.0.0.1" || $0 == "::1" } != nil, true,
                       "a name is looked up (getaddrinfo)")
    }

    /// Calls go to the servers in turn.
    func testCallsAreSpreadOverEveryServer() async throws {
        try await startServers(3)
        let client = try ConveneClient(target: servers.map { "127.0.0.1:\($0.port)" }.joined(separator: ","))
        defer { Task { await client.close() } }
        for _ in 0..<30 { try await Self.echo(client) }
        XCTAssertEqual(client.endpointStatus.map(\.calls), [10, 10, 10], "\(client.endpointStatus)")
    }

    /// A name standing for several addresses is several servers (three loopback addresses here,
    /// one server on each, one port).
    func testANameWithSeveralAddressesIsSeveralServers() async throws {
        try await startServers(1) { _, configuration in configuration.host = "127.0.0.1" }
        let port = servers[0].port
        do {
            for host in ["127.0.0.2", "127.0.0.3"] {
                servers.append(try await TestServer.start { $0.host = host; $0.port = port; $0.openBenchmark = true })
            }
        } catch {
            throw XCTSkip("cannot listen on 127.0.0.2 and 127.0.0.3 here: \(error)")
        }
        let client = ConveneClient(targets: [Target(host: "cluster.convene.test", port: port)], configuration: ConnectionConfiguration(),
                                   defaultOptions: CallOptions(), tls: nil, group: MultiThreadedEventLoopGroup.singleton,
                                   resolver: { _ in ["127.0.0.1", "127.0.0.2", "127.0.0.3"] })
        defer { Task { await client.close() } }
        for _ in 0..<9 { try await Self.echo(client) }
        XCTAssertEqual(client.endpointStatus.map(\.address), ["127.0.0.1:\(port)", "127.0.0.2:\(port)", "127.0.0.3:\(port)"])
        XCTAssertEqual(client.endpointStatus.map(\.calls), [3, 3, 3])
        XCTAssertEqual(Set(client.endpointStatus.map(\.target)), ["cluster.convene.test:\(port)"])
    }

    /// A server that drains (GOAWAY, listener closed) while calls wait for its only stream: those
    /// calls were provably not processed, so they go to another server and succeed; later calls
    /// leave the gone server alone.
    func testCallsAServerDidNotProcessGoToAnotherAndTheGoneServerIsLeftAlone() async throws {
        try await startServers(3) { index, configuration in
            if index == 0 { configuration.connection.settings.maxConcurrentStreams = 1 }
        }
        let client = try ConveneClient(target: servers.map { "127.0.0.1:\($0.port)" }.joined(separator: ","))
        defer { Task { await client.close() } }
        // The first call goes to the first server and holds its one stream.
        let watch = try await client.health.watch()
        var responses = watch.responses.makeAsyncIterator()
        _ = try await responses.next()
        let calls = Task { try await MultiTargetClientTests.echoes(12, at: client) }
        let queued = await eventually { client.endpointStatus.first?.calls ?? 0 >= 4 }
        XCTAssertTrue(queued, "calls wait on the first server's one stream: \(client.endpointStatus)")
        let drained = Task { [server = servers[0].server] in await server.transport.drain(grace: .seconds(2)) }
        try await calls.value
        await drained.value
        let before = client.endpointStatus.map(\.calls)
        for _ in 0..<6 { try await Self.echo(client) }
        let after = client.endpointStatus
        XCTAssertEqual(after[0].calls, before[0], "no call for the server that went away: \(after)")
        XCTAssertEqual(after[1].calls + after[2].calls, before[1] + before[2] + 6)
    }
}

extension MultiTargetClientTests {
    /// A server that is gone altogether (connections refused) is set aside: every call succeeds
    /// on the others, and the gone one is reported down.
    func testAServerThatRefusesConnectionsIsSetAside() async throws {
        try await startServers(3)
        let client = try ConveneClient(target: servers.map { "127.0.0.1:\($0.port)" }.joined(separator: ","))
        defer { Task { await client.close() } }
        for _ in 0..<3 { try await Self.echo(client) }
        await client.close()
        await servers[1].stop()
        for _ in 0..<12 { try await Self.echo(client) }
        let status = client.endpointStatus
        XCTAssertTrue(status[1].isDown, "\(status)")
        XCTAssertEqual(status[0].calls + status[2].calls, 2 + 12, "\(status)")
    }
}
