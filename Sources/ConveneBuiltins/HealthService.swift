import ConveneProtobuf
import ConveneProtos
import ConveneRPC
import SwiftProtobuf

/// Health: per-service serving status, checked, listed or watched, served as
/// convene.health.v1 and as the standard grpc.health.v1 (same messages on the wire) from one
/// state. The empty service name stands for the server as a whole; a service the router
/// serves and nobody set a status for is SERVING.
public final class HealthService: Sendable {
    public typealias Status = Convene_Health_V1_HealthCheckResponse.ServingStatus

    private struct State {
        var statuses: [String: Status] = ["": .serving]
        var watchers: [String: [Int: AsyncStream<Status>.Continuation]] = [:]
        /// For watched services with no status set: whether the router served them at the last look.
        var routed: [String: Bool] = [:]
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

    /// Marks every known service NOT_SERVING (on shutdown).
    public func shutDown() {
        let services = state.withLock { Array($0.statuses.keys) }
        for service in services { setStatus(.notServing, for: service) }
    }

    public func status(of service: String) -> Status? {
        state.withLock { $0.statuses[service] }
    }

    /// The status of a service: set explicitly, else SERVING if the router serves it.
    func effectiveStatus(of service: String, router: Router) -> Status? {
        status(of: service) ?? (router.hasService(service) ? .serving : nil)
    }

    /// Tells watchers of a service with no status of its own when the router starts or stops
    /// serving it (a plugin loaded or unloaded).
    func routerChanged(_ router: Router) {
        let updates = state.withLock { state -> [(AsyncStream<Status>.Continuation, Status)] in
            var updates: [(AsyncStream<Status>.Continuation, Status)] = []
            for (service, watchers) in state.watchers where state.statuses[service] == nil {
                let served = router.hasService(service)
                guard state.routed[service] != served else { continue }
                state.routed[service] = served
                updates += watchers.values.map { ($0, served ? .serving : .serviceUnknown) }
            }
            return updates
        }
        for (watcher, status) in updates { watcher.yield(status) }
    }

    public func register(with router: Router) throws {
        router.onChange { [weak self, weak router] in
            if let self, let router { self.routerChanged(router) }
        }
        try registerCheck(HealthMethods.check, with: router)
        try registerWatch(HealthMethods.watch, with: router)
        // grpc.health.v1 has the same messages, field for field: one implementation serves both.
        try registerCheck(GRPCHealthMethods.check, with: router)
        try registerWatch(GRPCHealthMethods.watch, with: router)
        try router.registerUnary(GRPCHealthMethods.list) { [self] (_: Grpc_Health_V1_HealthListRequest, _) -> Grpc_Health_V1_HealthListResponse in
            let explicit = state.withLock { $0.statuses }
            var services = Set(router.methods.map(\.descriptor.service))
            services.formUnion(explicit.keys)
            return .with { response in
                for service in services {
                    let status = explicit[service] ?? .serving
                    response.statuses[service] = .with { $0.status = .init(rawValue: status.rawValue) ?? .unknown }
                }
            }
        }
    }

    private func registerCheck(_ method: MethodDescriptor, with router: Router) throws {
        try router.registerUnary(method) { [self] (request: Convene_Health_V1_HealthCheckRequest, _) -> Convene_Health_V1_HealthCheckResponse in
            guard let status = effectiveStatus(of: request.service, router: router) else {
                throw RPCError(.notFound, "unknown service '\(request.service)'")
            }
            return .with { $0.status = status }
        }
    }

    private func registerWatch(_ method: MethodDescriptor, with router: Router) throws {
        try router.registerServerStreaming(method) {
            [self] (request: Convene_Health_V1_HealthCheckRequest, writer: ResponseStreamWriter<Convene_Health_V1_HealthCheckResponse>, _) in
            let (updates, continuation) = AsyncStream<Status>.makeStream()
            let (id, current) = state.withLock { state in
                let id = state.nextWatcher
                state.nextWatcher += 1
                state.watchers[request.service, default: [:]][id] = continuation
                if state.statuses[request.service] == nil { state.routed[request.service] = router.hasService(request.service) }
                return (id, state.statuses[request.service])
            }
            defer {
                // Names come from clients: nothing is kept for a service nobody watches any more.
                state.withLock { state in
                    state.watchers[request.service]?.removeValue(forKey: id)
                    if state.watchers[request.service]?.isEmpty ?? false {
                        state.watchers[request.service] = nil
                        state.routed[request.service] = nil
                    }
                }
            }
            let first = current ?? effectiveStatus(of: request.service, router: router) ?? .serviceUnknown
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
