import ConveneProtobuf
import ConveneProtos
import ConveneRPC
import SwiftProtobuf

/// Health: per-service serving status, checked, listed or watched. One state serves
/// convene.health.v1 (this type) and the standard grpc.health.v1 (`GRPCHealthService`). The
/// empty service name stands for the server as a whole; a service the router serves and
/// nobody set a status for is SERVING, and its watchers learn when a plugin's unload or load
/// removes or adds it.
public final class HealthService: HealthServiceProtocol {
    public typealias Status = Convene_Health_V1_HealthCheckResponse.ServingStatus

    private struct State {
        var statuses: [String: Status] = ["": .serving]
        var watchers: [String: [Int: AsyncStream<Status>.Continuation]] = [:]
        /// For watched services with no status set: whether the router served them at the last look.
        var routed: [String: Bool] = [:]
        var nextWatcher = 0
    }

    private let state = Locked(State())
    /// Whose services count as known (serving) without a status of their own.
    let router: Router

    public init(router: Router) {
        self.router = router
        router.onChange { [weak self] in self?.routerChanged() }
    }

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

    /// The status of a service: set explicitly, else SERVING if the router serves it; NOT_FOUND else.
    func currentStatus(of service: String) throws -> Status {
        guard let status = status(of: service) ?? (router.hasService(service) ? .serving : nil) else {
            throw RPCError(.notFound, "unknown service '\(service)'")
        }
        return status
    }

    /// Every service the router serves or that has a status, with its status.
    func allStatuses() -> [String: Status] {
        var all = state.withLock { $0.statuses }
        for method in router.methods where all[method.descriptor.service] == nil { all[method.descriptor.service] = .serving }
        return all
    }

    /// The current status, then every change, until the caller stops iterating.
    func statuses(of service: String) -> AsyncStream<Status> {
        let (updates, continuation) = AsyncStream<Status>.makeStream()
        let (id, current) = state.withLock { state in
            let id = state.nextWatcher
            state.nextWatcher += 1
            state.watchers[service, default: [:]][id] = continuation
            if state.statuses[service] == nil { state.routed[service] = router.hasService(service) }
            return (id, state.statuses[service])
        }
        continuation.yield(current ?? (router.hasService(service) ? .serving : .serviceUnknown))
        continuation.onTermination = { [weak self] _ in
            // Names come from clients: nothing is kept for a service nobody watches any more.
            self?.state.withLock { state in
                state.watchers[service]?.removeValue(forKey: id)
                if state.watchers[service]?.isEmpty ?? false {
                    state.watchers[service] = nil
                    state.routed[service] = nil
                }
            }
        }
        return updates
    }

    private func routerChanged() {
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

    public func check(_ request: Convene_Health_V1_HealthCheckRequest,
                      context: inout UnaryContext) throws -> Convene_Health_V1_HealthCheckResponse {
        let status = try currentStatus(of: request.service)
        return .with { $0.status = status }
    }

    public func watch(_ request: Convene_Health_V1_HealthCheckRequest,
                      responses: ResponseStreamWriter<Convene_Health_V1_HealthCheckResponse>,
                      context: ServerCallContext) async throws {
        for await status in statuses(of: request.service) {
            try await responses.send(.with { $0.status = status })
        }
    }
}

/// The standard grpc.health.v1 service, on the state of `HealthService`, so stock tools
/// (grpc_health_probe, Kubernetes probes, grpcurl) see what convene.health.v1 reports.
public struct GRPCHealthService: GRPCHealthServiceProtocol {
    public typealias Status = Grpc_Health_V1_HealthCheckResponse.ServingStatus
    let health: HealthService

    public init(health: HealthService) {
        self.health = health
    }

    /// The two enums number their statuses alike.
    static func standard(_ status: HealthService.Status) -> Status {
        Status(rawValue: status.rawValue) ?? .unknown
    }

    public func check(_ request: Grpc_Health_V1_HealthCheckRequest,
                      context: inout UnaryContext) throws -> Grpc_Health_V1_HealthCheckResponse {
        let status = try health.currentStatus(of: request.service)
        return .with { $0.status = Self.standard(status) }
    }

    public func list(_ request: Grpc_Health_V1_HealthListRequest,
                     context: ServerCallContext) async throws -> Grpc_Health_V1_HealthListResponse {
        .with { response in
            for (service, status) in health.allStatuses() {
                response.statuses[service] = .with { $0.status = Self.standard(status) }
            }
        }
    }

    public func watch(_ request: Grpc_Health_V1_HealthCheckRequest,
                      responses: ResponseStreamWriter<Grpc_Health_V1_HealthCheckResponse>,
                      context: ServerCallContext) async throws {
        for await status in health.statuses(of: request.service) {
            try await responses.send(.with { $0.status = Self.standard(status) })
        }
    }
}
