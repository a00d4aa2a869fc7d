import Dispatch
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PostgresNIO

/// The store's connections to PostgreSQL, leased by threads that wait: the store's own pool
/// threads (for the services' async transactions) and plugin threads (synchronous calls).
///
/// Connections are opened, and queries run, through NIO futures only, never through a Swift
/// concurrency task (postgres-nio's `PostgresClient` needs one to lease a connection). A
/// synchronous store call can come from a thread of Swift's cooperative pool (a plugin call's
/// authentication runs in a task), and that pool has as many threads as cores: two such calls
/// waiting for a task would leave it no thread to run on, on a 2-core machine.
final class ConnectionPool: Sendable {
    private struct State {
        var idle: [PostgresConnection] = []
        var closed = false
        var opened = 0
    }

    private let state = NIOLockedValueBox(State())
    /// One permit per connection that may be open (leased or idle).
    private let permits: DispatchSemaphore
    private let connectionConfiguration: Result<PostgresConnection.Configuration, PostgresStoreError>
    private let logger: Logger
    /// How long a lease waits for a connection another thread holds.
    static let leaseWait: DispatchTimeInterval = .seconds(30)

    init(configuration: PostgresConfiguration, logger: Logger) {
        permits = DispatchSemaphore(value: max(configuration.maximumConnections, 1))
        connectionConfiguration = Result { try configuration.connectionConfiguration(purpose: nil) }
            .mapError { PostgresStoreError.unreachable("cannot set up TLS to the database: \($0)") }
        self.logger = logger
    }

    /// An idle connection, or a new one while fewer than the maximum are open; waits (up to
    /// `leaseWait`) while every connection is leased. Give it back with `release`.
    func lease() throws -> PostgresConnection {
        guard permits.wait(timeout: .now() + Self.leaseWait) == .success else {
            throw PostgresStoreError.unreachable("every connection to the database stayed busy for 30 s")
        }
        do {
            let (closed, idle, id) = state.withLockedValue { state -> (Bool, PostgresConnection?, Int) in
                while let connection = state.idle.popLast() {
                    if !connection.isClosed { return (state.closed, connection, 0) }
                }
                state.opened += 1
                return (state.closed, nil, state.opened)
            }
            guard !closed else { throw PostgresStoreError.unreachable("the store is closed") }
            if let idle { return idle }
            return try PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.any(),
                                                  configuration: try connectionConfiguration.get(), id: id, logger: logger).wait()
        } catch {
            permits.signal()
            throw error
        }
    }

    /// Takes a connection back: kept for the next lease unless it is broken or closed (it is
    /// closed and dropped; the next lease opens another) or the pool is.
    func release(_ connection: PostgresConnection, broken: Bool = false) {
        let kept = !broken && !connection.isClosed && state.withLockedValue { state in
            if !state.closed { state.idle.append(connection) }
            return !state.closed
        }
        if !kept { Self.close(connection) }
        permits.signal()
    }

    /// Closes a connection, keeping it alive until it is (postgres-nio insists).
    static func close(_ connection: PostgresConnection) {
        connection.close().whenComplete { _ in withExtendedLifetime(connection) {} }
    }

    /// Closes the idle connections; those leased close as they come back.
    func close() {
        let idle = state.withLockedValue { state in
            state.closed = true
            defer { state.idle = [] }
            return state.idle
        }
        for connection in idle { Self.close(connection) }
    }
}
