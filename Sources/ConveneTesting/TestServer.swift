import ConveneClient
import ConvenePostgresStore
import ConveneRPC
import ConveneServer
import ConveneServices
import ConveneStore
import ConveneTransport
import Foundation
import Logging
import NIOCore
import NIOPosix

/// A real server on 127.0.0.1 (a free port) with a data directory of its own, for one test:
/// `let server = try await TestServer.start()`, then `server.client()`, then `server.stop()`.
/// It serves the interop service too; set CONVENE_TEST_LOG=debug to see its log.
public struct TestServer: Sendable {
    public let server: ConveneServer
    public let port: Int

    /// Starts a server on a free port of 127.0.0.1 with a fresh data directory; `configure`
    /// may change anything, the port and data directory included (to restart on the same ones).
    /// `group` holds its event loops (a group of one, to put every connection on one loop).
    public static func start(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                             _ configure: (inout ServerConfiguration) -> Void = { _ in }) async throws -> TestServer {
        let server = try ConveneServer(configuration: try await storeChosen(configuration(configure)), logger: logger,
                                       group: group)
        let address = try await server.start()
        return TestServer(server: server, port: address.port!)
    }

    /// The configuration `start` uses: 127.0.0.1, a free port, a temporary data directory,
    /// the interop service, a 5 s grace period; then `configure`.
    public static func configuration(_ configure: (inout ServerConfiguration) -> Void = { _ in }) -> ServerConfiguration {
        var configuration = ServerConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.enableInterop = true
        configuration.shutdownGrace = .seconds(5)
        configuration.dataDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("convene-test-\(UUID().uuidString)").path
        configure(&configuration)
        return configuration
    }

    /// With CONVENE_TEST_STORE=postgres, a server left on SQLite gets a PostgreSQL database of
    /// its own instead (the same one again when it restarts on the same data directory), so that
    /// a suite can run on either store.
    public static func storeChosen(_ configuration: ServerConfiguration) async throws -> ServerConfiguration {
        guard ProcessInfo.processInfo.environment["CONVENE_TEST_STORE"] == "postgres",
              case .sqlite = configuration.database else { return configuration }
        var chosen = configuration
        let remembered = (configuration.dataDirectory as NSString).appendingPathComponent("test-database-url")
        if let url = try? String(contentsOfFile: remembered, encoding: .utf8) {
            chosen.database = .postgres(try PostgresConfiguration(url: url))
        } else {
            let database = try await PostgresTestDatabase.create()
            try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
            try database.url.write(toFile: remembered, atomically: true, encoding: .utf8)
            chosen.database = .postgres(try database.configuration)
        }
        return chosen
    }

    static var logger: Logger {
        var logger = Logger(label: "convene-test")
        logger.logLevel = ProcessInfo.processInfo.environment["CONVENE_TEST_LOG"].flatMap { Logger.Level(rawValue: $0) } ?? .critical
        return logger
    }

    public var dataDirectory: String { server.configuration.dataDirectory }

    /// The administrator's token, written on first start to DATA_DIR/admin.token.
    public var adminToken: String {
        get throws {
            try String(contentsOfFile: dataDirectory + "/admin.token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// A new client of this server.
    public func client(_ configuration: ConnectionConfiguration = ConnectionConfiguration()) -> ConveneClient {
        ConveneClient(host: "127.0.0.1", port: port, configuration: configuration)
    }

    /// A new client whose calls carry the administrator's credential (the benchmark service
    /// needs it, or an operator's).
    public func adminClient(_ configuration: ConnectionConfiguration = ConnectionConfiguration(),
                            tls: ClientTLS? = nil) throws -> ConveneClient {
        ConveneClient(host: "127.0.0.1", port: port, configuration: configuration,
                      defaultOptions: .bearer(try adminToken), tls: tls)
    }

    /// Stops the whole server at once (connections closed, plugins unloaded with their
    /// runner processes, its monitor and store closed), and removes its data directory: a
    /// stopped test server leaves nothing running to slow the tests after it.
    public func stop() async {
        await server.shutDown(grace: .zero)
        try? FileManager.default.removeItem(atPath: dataDirectory)
    }
}

/// Runs `body` against a fresh server and client, and always stops both.
public func withServer(_ configure: (inout ServerConfiguration) -> Void = { _ in },
                       _ body: (TestServer, ConveneClient) async throws -> Void) async throws {
    let server = try await TestServer.start(configure)
    let client = server.client()
    do {
        try await body(server, client)
    } catch {
        await client.close()
        await server.stop()
        throw error
    }
    await client.close()
    await server.stop()
}

/// A server's router and services without a listener, called through an `InMemoryClient`:
/// every service as the network serves it, but no socket, no frame and no event loop.
public struct InMemoryServer: Sendable {
    public let server: ConveneServer
    public let client: InMemoryClient

    /// Builds the server (its administrator credential included) without listening.
    public static func start(_ configure: (inout ServerConfiguration) -> Void = { _ in }) async throws -> InMemoryServer {
        let server = try ConveneServer(configuration: try await TestServer.storeChosen(TestServer.configuration(configure)),
                                       logger: TestServer.logger)
        try await server.prepare()
        return InMemoryServer(server: server, client: InMemoryClient(router: server.router))
    }

    public var adminToken: String {
        get throws {
            try String(contentsOfFile: server.configuration.dataDirectory + "/admin.token", encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// Stops the server (its monitor, plugins and store) and removes its data directory.
    public func stop() async {
        await server.shutDown(grace: .zero)
        try? FileManager.default.removeItem(atPath: server.configuration.dataDirectory)
    }
}
