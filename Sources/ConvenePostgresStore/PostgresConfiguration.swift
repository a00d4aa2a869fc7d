import Foundation
import NIOSSL
import PostgresNIO

/// Where the PostgreSQL store connects, read from a URL in libpq's form:
/// `postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=require`.
///
/// `sslmode` means what it means to libpq: `disable` (plaintext), `allow` and `prefer` (TLS when the
/// server offers it, not verified; the default), `require` (TLS or no connection; the certificate
/// is verified against `sslrootcert` when one is given, as libpq does, else not), `verify-ca` (the
/// certificate must chain to `sslrootcert`, or to the system's CAs) and `verify-full` (the same,
/// and it must name the host).
public struct PostgresConfiguration: Sendable {
    public enum TLSMode: String, Sendable, CaseIterable {
        case disable, allow, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var tlsMode: TLSMode
    /// PEM file of the CAs that issue the database server's certificate (`sslrootcert`).
    public var rootCertificatePath: String?
    public var applicationName: String
    public var connectTimeout: Duration
    /// Connections the pool keeps open at most (and threads that run transactions).
    public var maximumConnections: Int

    public init(host: String, port: Int = 5432, username: String, password: String? = nil, database: String,
                tlsMode: TLSMode = .prefer, rootCertificatePath: String? = nil, applicationName: String = "convened",
                connectTimeout: Duration = .seconds(10), maximumConnections: Int = 10) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.tlsMode = tlsMode
        self.rootCertificatePath = rootCertificatePath
        self.applicationName = applicationName
        self.connectTimeout = connectTimeout
        self.maximumConnections = maximumConnections
    }

    /// Whether `text` names a PostgreSQL database (rather than, say, a path).
    public static func isURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// Reads `postgres://USER[:PASSWORD]@HOST[:PORT][/DATABASE][?PARAMETERS]` (or `postgresql://`);
    /// user and password may be percent-encoded. Parameters: sslmode, sslrootcert,
    /// application_name, connect_timeout (seconds). Anything else is refused by name.
    public init(url text: String) throws {
        guard Self.isURL(text), let url = URLComponents(string: text) else {
            throw PostgresConfigurationError("not a PostgreSQL URL (postgres://USER:PASSWORD@HOST:PORT/DATABASE)")
        }
        guard let user = url.user, !user.isEmpty else {
            throw PostgresConfigurationError("the URL names no user (postgres://USER:PASSWORD@HOST:PORT/DATABASE)")
        }
        guard let host = url.host, !host.isEmpty else { throw PostgresConfigurationError("the URL names no host") }
        let port = url.port ?? 5432
        guard (1...65535).contains(port) else { throw PostgresConfigurationError("port \(port) is out of range") }
        let path = url.path.hasPrefix("/") ? String(url.path.dropFirst()) : url.path
        guard !path.contains("/") else { throw PostgresConfigurationError("the database name '\(path)' contains '/'") }
        self.init(host: host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host, port: port, username: user,
                  password: url.password, database: path.isEmpty ? user : path)
        for item in url.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "sslmode":
                guard let mode = TLSMode(rawValue: value) else {
                    throw PostgresConfigurationError("sslmode '\(value)' is not one of "
                        + TLSMode.allCases.map(\.rawValue).joined(separator: ", "))
                }
                tlsMode = mode
            case "sslrootcert":
                rootCertificatePath = value
            case "application_name":
                applicationName = value
            case "connect_timeout":
                guard let seconds = Int(value), seconds > 0, seconds <= 3600 else {
                    throw PostgresConfigurationError("connect_timeout '\(value)' must be 1 to 3600 seconds")
                }
                connectTimeout = .seconds(seconds)
            default:
                throw PostgresConfigurationError("unknown URL parameter '\(item.name)' (known: sslmode, sslrootcert, application_name, connect_timeout)")
            }
        }
        if tlsMode == .disable, rootCertificatePath != nil {
            throw PostgresConfigurationError("sslrootcert needs TLS, but sslmode is disable")
        }
    }

    /// The URL without its password, for logs.
    public var redacted: String {
        let address = host.contains(":") ? "[\(host)]" : host
        return "postgres://\(username)\(password == nil ? "" : ":***")@\(address):\(port)/\(database)?sslmode=\(tlsMode.rawValue)"
    }

    /// TLS as NIOSSL sees it, or nil for plaintext.
    func tlsConfiguration() -> TLSConfiguration? {
        guard tlsMode != .disable else { return nil }
        var tls = TLSConfiguration.makeClientConfiguration()
        if let rootCertificatePath { tls.trustRoots = .file(rootCertificatePath) }
        switch tlsMode {
        case .verifyFull: tls.certificateVerification = .fullVerification
        case .verifyCA: tls.certificateVerification = .noHostnameVerification
        case .require where rootCertificatePath != nil: tls.certificateVerification = .noHostnameVerification
        default: tls.certificateVerification = .none
        }
        return tls
    }

    /// Whether a connection without TLS is acceptable.
    var plaintextAllowed: Bool { [.disable, .allow, .prefer].contains(tlsMode) }

    /// The configuration of one connection: the pool's, or, with a purpose, one of its own
    /// (the listener's), named so in `pg_stat_activity`.
    func connectionConfiguration(purpose: String?) throws -> PostgresConnection.Configuration {
        var tls = PostgresConnection.Configuration.TLS.disable
        if let configuration = tlsConfiguration() {
            let context = try NIOSSLContext(configuration: configuration)
            tls = plaintextAllowed ? .prefer(context) : .require(context)
        }
        var configuration = PostgresConnection.Configuration(host: host, port: port, username: username, password: password,
                                                             database: database, tls: tls)
        configuration.options.connectTimeout = .nanoseconds(connectTimeout.components.seconds * 1_000_000_000)
        configuration.options.additionalStartupParameters = [("application_name", applicationName + (purpose.map { " " + $0 } ?? ""))]
        return configuration
    }
}

public struct PostgresConfigurationError: Error, CustomStringConvertible, Sendable {
    public let message: String
    init(_ message: String) { self.message = message }
    public var description: String { "--database: \(message)" }
}
