import ConveneProtobuf
import ConveneRPC
import ConveneTransport
import NIOCore
import NIOPosix
import SwiftProtobuf

/// A client for partners (typed calls and stubs come from `CallChannel`): one connection at a time to a server, multiplexing concurrent
/// calls, reconnecting when the connection is lost or the server drains it.
///
/// A call the server never processed (refused by a GOAWAY) is retried once on a new
/// connection; nothing else is retried.
public final class ConveneClient: Sendable {
    public let host: String
    public let port: Int
    public let configuration: ConnectionConfiguration
    /// TLS to the server; nil connects in plaintext.
    public let tls: ClientTLS?
    let group: any EventLoopGroup
    /// Options every call starts from (e.g. credentials in metadata).
    public let defaultOptions: CallOptions

    private enum Slot {
        case none
        case connecting(Task<ClientConnection, any Error>)
        case connected(ClientConnection)
    }

    private let slot = Locked(Slot.none)

    public init(host: String, port: Int, configuration: ConnectionConfiguration = ConnectionConfiguration(),
                defaultOptions: CallOptions = CallOptions(), tls: ClientTLS? = nil,
                group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.host = host
        self.port = port
        self.configuration = configuration
        self.tls = tls
        self.defaultOptions = defaultOptions
        self.group = group
    }

    /// `HOST:PORT`, `[IPv6]:PORT`.
    public convenience init(target: String, configuration: ConnectionConfiguration = ConnectionConfiguration(),
                            defaultOptions: CallOptions = CallOptions(), tls: ClientTLS? = nil) throws {
        guard let colon = target.lastIndex(of: ":"), let port = Int(target[target.index(after: colon)...]) else {
            throw RPCError(.invalidArgument, "target '\(target)' is not HOST:PORT")
        }
        var host = String(target[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.init(host: host, port: port, configuration: configuration, defaultOptions: defaultOptions, tls: tls)
    }

    /// The current connection, connecting (again) when there is none that can take calls.
    public func connection() async throws -> ClientConnection {
        let task: Task<ClientConnection, any Error> = slot.withLock { slot in
            switch slot {
            case .connected(let connection) where connection.isUsable:
                return Task { connection }
            case .connecting(let task):
                return task
            default:
                let task = Task { [host, port, configuration, tls, group] in
                    try await ClientConnection.connect(host: host, port: port, configuration: configuration, tls: tls,
                                                       group: group)
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
            return connection
        } catch {
            slot.withLock { slot in
                if case .connecting = slot { slot = .none }
            }
            throw error
        }
    }

    /// Closes the connection gracefully (open calls finish).
    public func close() async {
        let current: ClientConnection? = slot.withLock { slot in
            defer { slot = .none }
            if case .connected(let c) = slot { return c }
            return nil
        }
        await current?.close()
    }

    func merged(_ options: CallOptions?) -> CallOptions {
        options?.over(defaultOptions) ?? defaultOptions
    }

    // MARK: - Raw calls

    /// A unary call on raw bytes.
    public func unary(path: String, request: ByteBuffer, options: CallOptions? = nil) async throws -> UnaryResponse {
        let options = merged(options)
        do {
            return try await connection().unary(path: path, request: request, options: options)
        } catch is CallNotProcessed {
            return try await retryOnce { try await $0.unary(path: path, request: request, options: options) }
        }
    }

    private func retryOnce<T>(_ body: (ClientConnection) async throws -> T) async throws -> T {
        do {
            return try await body(connection())
        } catch let error as CallNotProcessed {
            throw RPCError(.unavailable, error.description)
        }
    }

    /// A call of any kind on raw bytes.
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
