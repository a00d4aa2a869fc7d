import ConvenePostgresStore
import Foundation
import Logging
import PostgresNIO
import XCTest

/// Fresh databases on the private PostgreSQL that `make test` starts (scripts/with-postgres.sh):
/// `let database = try await PostgresTestDatabase.create()`, then a store or servers on
/// `database.configuration` / `database.url`. Without that instance a test using it is skipped,
/// or fails when CONVENE_REQUIRE_POSTGRES=1 (as `make test` sets it).
public struct PostgresTestDatabase: Sendable {
    /// `postgres://convene@127.0.0.1:PORT/NAME`.
    public let url: String
    public let name: String

    public var configuration: PostgresConfiguration {
        get throws { try PostgresConfiguration(url: url) }
    }

    /// The instance's URL, from CONVENE_TEST_POSTGRES_URL.
    public static func instanceURL() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        if let url = environment["CONVENE_TEST_POSTGRES_URL"], !url.isEmpty { return url }
        let why = "no PostgreSQL for the tests (CONVENE_TEST_POSTGRES_URL): run them with scripts/with-postgres.sh, as make test does"
        if environment["CONVENE_REQUIRE_POSTGRES"] == "1" { throw PostgresUnavailable(message: why) }
        throw XCTSkip(why)
    }

    /// The certificate the instance presents (CONVENE_TEST_POSTGRES_CA), for TLS tests.
    public static var certificatePath: String? { ProcessInfo.processInfo.environment["CONVENE_TEST_POSTGRES_CA"] }

    /// A new, empty database on the instance.
    public static func create() async throws -> PostgresTestDatabase {
        let instance = try PostgresConfiguration(url: try instanceURL())
        let name = "convene_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        var connectionConfiguration = PostgresConnection.Configuration(
            host: instance.host, port: instance.port, username: instance.username, password: instance.password,
            database: instance.database, tls: .disable)
        connectionConfiguration.options.connectTimeout = .seconds(30)
        let logger = Logger(label: "convene-test-postgres")
        let connection = try await PostgresConnection.connect(configuration: connectionConfiguration, id: 1, logger: logger)
        do {
            try await connection.query(PostgresQuery(unsafeSQL: #"CREATE DATABASE "\#(name)""#), logger: logger)
            try await connection.close()
        } catch {
            try? await connection.close()
            throw error
        }
        var url = URLComponents()
        url.scheme = "postgres"
        url.user = instance.username
        url.password = instance.password
        url.host = instance.host
        url.port = instance.port
        url.path = "/" + name
        return PostgresTestDatabase(url: url.string ?? "", name: name)
    }
}

struct PostgresUnavailable: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
