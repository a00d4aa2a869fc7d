import ConveneProtobuf
import ConveneRPC
import ConveneTransport
import NIOCore
import NIOPosix
import SwiftProtobuf

/// A client for partners (typed calls and stubs come from `CallChannel`): connections to one
/// server or several, multiplexing concurrent calls, reconnecting when a connection is lost or
/// a server drains it.
///
/// With several targets (`A:7353,B:7353`, or a name with several addresses), calls are spread
/// over the servers in turn, one connection each; a server that refuses a connection is set
/// aside for a while and the call goes to the next. A call a server provably did not process
/// (refused by its GOAWAY, or never sent because the connection failed) is tried on another
/// server (on a new connection to the same one when there is one server); nothing else is retried.
public final class ConveneClient: Sendable {
    /// The servers, as given.
    public let targets: [Target]
    public let configuration: ConnectionConfiguration
    /// TLS to the servers; nil connects in plaintext.
    public let tls: ClientTLS?
    let group: any EventLoopGroup
    /// Options every call starts from (e.g. credentials in metadata).
    public let defaultOptions: CallOptions

    private struct Endpoints {
        var all: [Endpoint] = []
        var resolvedAt: ContinuousClock.Instant?
        /// Where the next call starts looking.
        var cursor = 0
    }

    private let endpoints = Locked(Endpoints())
    /// How a target's name becomes addresses (getaddrinfo; tests give names of their own).
    let resolver: @Sendable (Target) async -> [String]

    /// A new name lookup when every endpoint is down and the last lookup is this old.
    static let lookUpAgainAfter: Duration = .seconds(5)

    public convenience init(targets: [Target], configuration: ConnectionConfiguration = ConnectionConfiguration(),
                            defaultOptions: CallOptions = CallOptions(), tls: ClientTLS? = nil,
                            group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.init(targets: targets, configuration: configuration, defaultOptions: defaultOptions, tls: tls, group: group,
                  resolver: { await $0.resolve() })
    }

    init(targets: [Target], configuration: ConnectionConfiguration, defaultOptions: CallOptions, tls: ClientTLS?,
         group: any EventLoopGroup, resolver: @escaping @Sendable (Target) async -> [String]) {
        precondition(!targets.isEmpty, "a client needs a target")
        self.resolver = resolver
        self.targets = targets
        self.configuration = configuration
        self.tls = tls
        self.defaultOptions = defaultOptions
        self.group = group
    }

    public convenience init(host: String, port: Int, configuration: ConnectionConfiguration = ConnectionConfiguration(),
                            defaultOptions: CallOptions = CallOptions(), tls: ClientTLS? = nil,
                            group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.init(targets: [Target(host: host, port: port)], configuration: configuration, defaultOptions: defaultOptions,
                  tls: tls, group: group)
    }

    /// `HOST:PORT`, `[IPv6]:PORT`, or several separated by commas.
    public convenience init(target: String, configuration: ConnectionConfiguration = ConnectionConfiguration(),
                            defaultOptions: CallOptions = CallOptions(), tls: ClientTLS? = nil) throws {
        self.init(targets: try Target.list(target), configuration: configuration, defaultOptions: defaultOptions, tls: tls)
    }

    /// The first target's host and port.
    public var host: String { targets[0].host }
    public var port: Int { targets[0].port }

    /// The endpoints known so far (after the first call), with the calls each has taken.
    public var endpointStatus: [EndpointStatus] {
        let now = ContinuousClock.now
        return endpoints.withLock { $0.all }.map {
            EndpointStatus(address: $0.description, target: $0.target.description, calls: $0.calls, isDown: $0.isDown(at: now))
        }
    }

    /// Every endpoint's address and port, looking the targets' names up when not done yet (a
    /// load generator opens its own connections over them).
    public func resolvedEndpoints() async -> [(host: String, port: Int, tls: ClientTLS?)] {
        await candidates().map { ($0.address, $0.port, tls.map($0.verifyingName)) }
    }

    /// The endpoints in the order a new call tries them: the live ones in turn from the cursor,
    /// then those set aside, soonest back first.
    private func candidates() async -> [Endpoint] {
        let now = ContinuousClock.now
        let stale = endpoints.withLock { state in
            state.all.isEmpty || (state.all.allSatisfy { $0.isDown(at: now) }
                                  && state.resolvedAt.map { now - $0 > Self.lookUpAgainAfter } ?? true)
        }
        if stale { await lookUp() }
        return endpoints.withLock { state in
            guard !state.all.isEmpty else { return [] }
            let start = state.cursor % state.all.count
            state.cursor = (state.cursor + 1) % state.all.count
            let turn = Array(state.all[start...] + state.all[..<start])
            let live = turn.filter { !$0.isDown(at: now) }
            let aside = turn.filter { $0.isDown(at: now) }.sorted { ($0.downUntil ?? now) < ($1.downUntil ?? now) }
            return live + aside
        }
    }

    /// Looks the targets up; an endpoint still there keeps its connection, one gone is closed.
    private func lookUp() async {
        var found: [(String, Target)] = []
        for target in targets {
            for address in await resolver(target) where !found.contains(where: { $0.0 == address && $0.1.port == target.port }) {
                found.append((address, target))
            }
        }
        let gone: [Endpoint] = endpoints.withLock { state in
            let kept = found.map { address, target in
                state.all.first { $0.address == address && $0.port == target.port }
                    ?? Endpoint(address: address, port: target.port, target: target)
            }
            let gone = state.all.filter { old in !kept.contains { $0 === old } }
            state.all = kept
            state.resolvedAt = .now
            return gone
        }
        for endpoint in gone { await endpoint.close() }
    }

    /// A connection to the first endpoint (in `candidates` order, those in `tried` last) that
    /// takes one. Failing to connect sends nothing, so the next endpoint is always safe to try.
    func connection(avoiding tried: Set<ObjectIdentifier> = []) async throws -> (ClientConnection, Endpoint) {
        let all = await candidates()
        var lastError: (any Error)?
        for endpoint in all.filter({ !tried.contains(ObjectIdentifier($0)) }) + all.filter({ tried.contains(ObjectIdentifier($0)) }) {
            do {
                let connection = try await endpoint.connection(configuration: configuration, tls: tls, group: group)
                endpoint.counted()
                return (connection, endpoint)
            } catch {
                lastError = error
            }
        }
        if all.count > 1 {
            throw RPCError(.unavailable, "no server of \(targets.map(\.description).joined(separator: ",")) takes a connection; last: \((lastError as? RPCError)?.message ?? "\(lastError.map { "\($0)" } ?? "none")")")
        }
        throw lastError ?? RPCError(.unavailable, "no server to call")
    }

    /// The current connection to one of the servers (the next in turn), connecting when needed.
    public func connection() async throws -> ClientConnection {
        try await connection(avoiding: []).0
    }

    /// Closes every connection gracefully (open calls finish).
    public func close() async {
        let all = endpoints.withLock { $0.all }
        for endpoint in all { await endpoint.close() }
    }

    func merged(_ options: CallOptions?) -> CallOptions {
        options?.over(defaultOptions) ?? defaultOptions
    }

    // MARK: - Raw calls

    /// A unary call on raw bytes. A call no server processed is tried on the next (at most once
    /// on each, and twice with one server).
    public func unary(path: String, request: ByteBuffer, options: CallOptions? = nil) async throws -> UnaryResponse {
        let options = merged(options)
        var tried = Set<ObjectIdentifier>()
        var attempts = 0
        while true {
            let (connection, endpoint) = try await connection(avoiding: tried)
            attempts += 1
            do {
                return try await connection.unary(path: path, request: request, options: options)
            } catch let error as CallNotProcessed {
                tried.insert(ObjectIdentifier(endpoint))
                if attempts >= max(2, endpoints.withLock { $0.all.count }) { throw RPCError(.unavailable, error.description) }
            }
        }
    }

    /// A call of any kind on raw bytes, on the next server in turn (not retried once started).
    public func makeCall(path: String, options: CallOptions? = nil, request: ByteBuffer? = nil) async throws -> StreamingCall {
        try await connection().makeCall(path: path, options: merged(options), request: request)
    }
}

extension ConveneClient: CallChannel {
    public func rawUnary(path: String, request: ByteBuffer, options: CallOptions?) async throws -> RawUnaryResponse {
        let response = try await unary(path: path, request: request, options: options)
        return (response.message, response.headers, response.trailers)
    }

    public func rawCall(path: String, request: ByteBuffer?, options: CallOptions?) async throws -> any RawCall {
        try await makeCall(path: path, options: options, request: request)
    }
}

import ConveneWire
