import ConveneRPC
import ConveneTransport
import NIOCore

/// One server address a client calls (a target, or one of the addresses a target's name stands
/// for), with the one connection the client keeps to it and whether it is believed down.
final class Endpoint: Sendable {
    let address: String
    let port: Int
    /// What it was given as (its name is what TLS verifies).
    let target: Target

    private enum Slot {
        case none
        case connecting(Task<ClientConnection, any Error>)
        case connected(ClientConnection)
    }

    private struct Health {
        /// Not tried again before this, after a failed connection (unless every endpoint is down).
        var downUntil: ContinuousClock.Instant?
        var backoff: Duration = .zero
        var calls = 0
    }

    private let slot = Locked(Slot.none)
    private let health = Locked(Health())

    /// The longest an endpoint that refused a connection is set aside.
    static let longestBackoff: Duration = .seconds(15)

    init(address: String, port: Int, target: Target) {
        self.address = address
        self.port = port
        self.target = target
    }

    var description: String { address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)" }

    func isDown(at now: ContinuousClock.Instant) -> Bool { health.withLock { $0.downUntil.map { now < $0 } ?? false } }
    var downUntil: ContinuousClock.Instant? { health.withLock { $0.downUntil } }
    var calls: Int { health.withLock { $0.calls } }

    func counted() { health.withLock { $0.calls += 1 } }

    /// The current connection, connecting (again) when there is none that can take calls. A
    /// failure to connect sets the endpoint aside for a while (0.5 s, doubling to 15 s).
    func connection(configuration: ConnectionConfiguration, tls: ClientTLS?, group: any EventLoopGroup) async throws -> ClientConnection {
        let task: Task<ClientConnection, any Error> = slot.withLock { slot in
            switch slot {
            case .connected(let connection) where connection.isUsable:
                return Task { connection }
            case .connecting(let task):
                return task
            default:
                let task = Task { [address, port, tls = tls.map(verifyingName)] in
                    try await ClientConnection.connect(host: address, port: port, configuration: configuration, tls: tls, group: group)
                }
                slot = .connecting(task)
                return task
            }
        }
        do {
            let connection = try await task.value
            slot.withLock { slot in
                if case .connecting = slot { slot = .connected(connection) }
            }
            health.withLock { $0.downUntil = nil; $0.backoff = .zero }
            return connection
        } catch {
            slot.withLock { slot in
                if case .connecting = slot { slot = .none }
            }
            health.withLock { health in
                health.backoff = min(max(health.backoff * 2, .milliseconds(500)), Self.longestBackoff)
                health.downUntil = ContinuousClock.now.advanced(by: health.backoff)
            }
            throw error
        }
    }

    /// TLS verifies the name the endpoint was given by, not the address it resolved to.
    func verifyingName(_ tls: ClientTLS) -> ClientTLS {
        guard tls.serverHostname == nil, !target.isAddress else { return tls }
        var named = tls
        named.serverHostname = target.host
        return named
    }

    /// Closes the connection gracefully (open calls finish).
    func close() async {
        let current: ClientConnection? = slot.withLock { slot in
            defer { slot = .none }
            if case .connected(let connection) = slot { return connection }
            return nil
        }
        await current?.close()
    }
}

/// What a client knows of one of its endpoints (for diagnostics and tests).
public struct EndpointStatus: Sendable, Hashable {
    /// `ADDRESS:PORT`.
    public var address: String
    /// The target it comes from, as given.
    public var target: String
    /// Calls started on it.
    public var calls: Int
    /// Whether it refused the last connection and is set aside for now.
    public var isDown: Bool
}
