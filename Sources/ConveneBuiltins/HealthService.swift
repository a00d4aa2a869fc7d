import ConveneProtobuf
import ConveneProtos
import ConveneRPC
import SwiftProtobuf

/// grpc.health.v1-style health: per-service serving status, checked or watched.
/// The empty service name stands for the server as a whole.
public final class HealthService: Sendable {
    public typealias Status = Convene_Health_V1_HealthCheckResponse.ServingStatus

    private struct State {
        var statuses: [String: Status] = ["": .serving]
        var watchers: [String: [Int: AsyncStream<Status>.Continuation]] = [:]
        var nextWatcher = 0
    }

    private let state = Locked(State())

    public init() {}

    /// Sets a service's status and tells its watchers.
    public func setStatus(_ status: Status, for service: String = "") {
        let watchers = state.withLock { state -> [AsyncStream<Status>.Continuation] in
            guard state.statuses[service] != status else { return [] }
            state.statuses[service] = status
            return Array(state.watchers[service, default: [:]].values)
        }
        for watcher in watchers { watcher.yield(status) }
    }

    /// Forgets a service's status (it is gone): Check then answers by whether it is served.
    public func removeStatus(for service: String) {
        let watchers = state.withLock { state -> [AsyncStream<Status>.Continuation] in
            guard state.statuses.removeValue(forKey: service) != nil else { return [] }
            return Array(state.watchers[service, default: [:]].values)
        }
        for watcher in watchers { watcher.yield(.serviceUnknown) }
    }

    /// Marks every known service NOT_SERVING (on shutdown).
    public func shutDown() {
        let services = state.withLock { Array($0.statuses.keys) }
        for service in services { setStatus(.notServing, for: service) }
    }

    public func status(of service: String) -> Status? {
        state.withLock { $0.statuses[service] }
    }

    public func register(with router: Router) throws {
        try router.registerUnary(HealthMethods.check) { [self] (request: Convene_Health_V1_HealthCheckRequest, _) -> Convene_Health_V1_HealthCheckResponse in
            let known = status(of: request.service) ?? (router.hasService(request.service) ? .serving : nil)
            guard let status = known else {
                throw RPCError(.notFound, "unknown service '\(request.service)'")
            }
            return .with { $0.status = status }
        }
        try router.registerServerStreaming(HealthMethods.watch) {
            [self] (request: Convene_Health_V1_HealthCheckRequest, writer: ResponseStreamWriter<Convene_Health_V1_HealthCheckResponse>, _) in
            let (updates, continuation) = AsyncStream<Status>.makeStream()
            let (id, current) = state.withLock { state in
                let id = state.nextWatcher
                state.nextWatcher += 1
                state.watchers[request.service, default: [:]][id] = continuation
                return (id, state.statuses[request.service])
            }
            defer { _ = state.withLock { $0.watchers[request.service]?.removeValue(forKey: id) } }
            let first = current ?? (router.hasService(request.service) ? .serving : .serviceUnknown)
            try await writer.send(.with { $0.status = first })
            await withTaskCancellationHandler {
                for await status in updates {
                    guard (try? await writer.send(.with { $0.status = status })) != nil else { return }
                }
            } onCancel: {
                continuation.finish()
            }
        }
    }
}
