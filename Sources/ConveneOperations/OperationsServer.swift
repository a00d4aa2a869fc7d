import ConveneRPC
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// The operators' HTTP endpoint (`--metrics-port`): `/metrics` in the Prometheus text format
/// and `/` the status page. Plain HTTP/1.1; it answers GET and HEAD only and reads nothing
/// but the request line and headers.
public final class OperationsServer: Sendable {
    let metrics: ServerMetrics
    let sampler: StatusSampler
    let status: @Sendable () -> ServerStatus
    let group: any EventLoopGroup
    let logger: Logger
    private let state = Locked<State>(State())

    private struct State {
        var channel: (any Channel)?
        var sampling: RepeatedTask?
    }

    public init(metrics: ServerMetrics, status: @escaping @Sendable () -> ServerStatus,
                group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger) {
        self.metrics = metrics
        self.sampler = StatusSampler(metrics: metrics)
        self.status = status
        self.group = group
        self.logger = logger
    }

    /// Listens, and starts sampling for the status page every `sampleInterval`.
    @discardableResult
    public func bind(host: String, port: Int, sampleInterval: Duration = .seconds(5)) async throws -> SocketAddress {
        let responder = Responder(metrics: metrics, sampler: sampler, status: status)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(OperationsHTTPHandler(responder: responder))
                }
            }
            .bind(host: host, port: port).get()
        sampler.sample()
        let sampler = self.sampler
        let task = group.next().scheduleRepeatedTask(initialDelay: timeAmount(sampleInterval), delay: timeAmount(sampleInterval)) { _ in
            sampler.sample()
        }
        state.withLock { $0 = State(channel: channel, sampling: task) }
        guard let address = channel.localAddress else { throw RPCError(.internal, "operations endpoint has no address") }
        return address
    }

    public func close() async {
        let (channel, task) = state.withLock { ($0.channel, $0.sampling) }
        task?.cancel()
        try? await channel?.close()
    }
}

func timeAmount(_ duration: Duration) -> TimeAmount { .nanoseconds(duration.saturatingNanoseconds) }

/// Builds each response (on the event loop; both pages are cheap to render).
struct Responder: Sendable {
    let metrics: ServerMetrics
    let sampler: StatusSampler
    let status: @Sendable () -> ServerStatus

    func respond(method: HTTPMethod, uri: String) -> (HTTPResponseStatus, String, String) {
        guard method == .GET || method == .HEAD else {
            return (.methodNotAllowed, "text/plain; charset=utf-8", "only GET and HEAD\n")
        }
        switch uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? "/" {
        case "/metrics": return (.ok, "text/plain; version=0.0.4; charset=utf-8", metrics.exposition())
        case "/": return (.ok, "text/html; charset=utf-8", StatusPage.render(status: status(), sampler: sampler))
        default: return (.notFound, "text/plain; charset=utf-8", "not found: try / or /metrics\n")
        }
    }
}

final class OperationsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let responder: Responder
    private var head: HTTPRequestHead?

    init(responder: Responder) { self.responder = responder }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let request): head = request
        case .body: break  // nothing is read from a body
        case .end:
            guard let request = head else { return }
            head = nil
            let (status, contentType, body) = responder.respond(method: request.method, uri: request.uri)
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: contentType)
            headers.add(name: "content-length", value: String(body.utf8.count))
            headers.add(name: "cache-control", value: "no-store")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))),
                          promise: nil)
            if request.method != .HEAD {
                context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
            }
            let keepAlive = request.isKeepAlive
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { [context] _ in
                if !keepAlive { context.close(promise: nil) }
            }
        }
    }
}
