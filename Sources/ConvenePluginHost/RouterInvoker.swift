import ConveneRPC
import Dispatch
import Foundation
import NIOCore

/// Calls the server's own methods in process, for plugins (`call_service`). Runs on a
/// plugin thread and blocks it until the method answers.
final class RouterInvoker: Sendable {
    let router: Router
    let services: any PluginServices
    let timeout: Duration

    init(router: Router, services: any PluginServices, timeout: Duration) {
        self.router = router
        self.services = services
        self.timeout = timeout
    }

    /// Calls `path` with the caller's credential (`authorization`) or, `asPlugin`, the plugin's
    /// own. The plugin's own refused (an administrator revoked it) is replaced by a new one,
    /// once per call: a plugin's principal is the server's, and its reactions do not stop half way.
    /// A call made for a plugin's call ends with it: its deadline is `within` (the plugin's
    /// call's) when that is sooner than the host's own limit, so a plugin that calls itself, or
    /// waits on another, holds nothing past its caller's deadline.
    func invoke(plugin: String, authorization: String?, path: String, request: [UInt8],
                asPlugin: Bool, within outer: ContinuousClock.Instant? = nil) -> Result<[UInt8], RPCError> {
        let limit = ContinuousClock.now.advanced(by: timeout)
        let deadline = outer.map { min($0, limit) } ?? limit
        guard asPlugin else {
            var metadata = Metadata()
            if let authorization { metadata.add("authorization", authorization) }
            return invoke(path: path, request: request, metadata: metadata, deadline: deadline)
        }
        var result = Result<[UInt8], RPCError>.failure(RPCError(.internal, "not called"))
        for _ in 0..<2 {
            let token: String
            do {
                token = try services.pluginCredential(plugin: plugin)
            } catch {
                let reason = RPCError.from(error)
                return .failure(RPCError(reason.code == .unknown ? .internal : reason.code, "the plugin has no credential: \(reason.message)"))
            }
            var metadata = Metadata()
            metadata.add("authorization", "Bearer \(token)")
            result = invoke(path: path, request: request, metadata: metadata, deadline: deadline)
            guard case .failure(let error) = result, error.code == .unauthenticated else { return result }
            services.pluginCredentialRefused(plugin: plugin, token: token)
        }
        return result
    }

    private func invoke(path: String, request: [UInt8], metadata: Metadata,
                        deadline: ContinuousClock.Instant) -> Result<[UInt8], RPCError> {
        // Admitted as a transport admits a call: a method whose service requires a scope
        // (`Router.require`) runs only for a credential that grants it.
        let method: RegisteredMethod
        switch router.admit(path: path, metadata: metadata) {
        case .run(let admitted): method = admitted
        case .refuse(let error, _): return .failure(error)
        }
        guard method.descriptor.kind == .unary else {
            return .failure(RPCError(.unimplemented, "plugins call unary methods only; \(path) is \(method.descriptor.kind)"))
        }
        let timeout = max(.zero, ContinuousClock.now.duration(to: deadline))
        guard timeout > .zero else { return .failure(RPCError(.deadlineExceeded, "the plugin's call has no time left for \(path)")) }
        let buffer = ByteBuffer(bytes: request)
        switch method.handler {
        case .synchronousUnary(let body):
            var context = UnaryContext(method: method.descriptor, requestMetadata: metadata, deadline: deadline, peer: "plugin")
            do {
                return .success(Array(buffer: try body(buffer, &context)))
            } catch {
                return .failure(RPCError.from(error))
            }
        case .asynchronous(let body):
            let writer = CollectingWriter()
            let context = ServerCallContext(method: method.descriptor, requestMetadata: metadata, deadline: deadline, peer: "plugin")
            let box = ResultBox()
            let done = DispatchSemaphore(value: 0)
            let task = Task {
                do {
                    try await body(RequestStream.of([buffer]), writer, context)
                    box.set(writer.first.map { .success(Array(buffer: $0)) }
                            ?? .failure(RPCError(.internal, "\(path) sent no response")))
                } catch {
                    box.set(.failure(RPCError.from(error)))
                }
                done.signal()
            }
            if done.wait(timeout: .now() + .nanoseconds(Int(timeout.saturatingNanoseconds))) == .timedOut {
                task.cancel()
                return .failure(RPCError(.deadlineExceeded, "\(path) did not answer within \(timeout)"))
            }
            return box.get()!
        case .deferredUnary(let body):
            let completion = BlockingCompletion()
            body(buffer, ServerCallContext(method: method.descriptor, requestMetadata: metadata, deadline: deadline, peer: "plugin"),
                 completion)
            guard let result = completion.wait(upTo: timeout) else {
                return .failure(RPCError(.deadlineExceeded, "\(path) did not answer within \(timeout)"))
            }
            return result
        }
    }
}

/// The completion of a deferred unary method called in process: the calling thread waits.
private final class BlockingCompletion: UnaryCompletion, @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let state = Locked<(result: Result<[UInt8], RPCError>?, onCancel: (@Sendable () -> Void)?)>((nil, nil))

    func succeed(_ response: ByteBuffer) { finish(.success(Array(buffer: response))) }
    func fail(_ error: any Error) { finish(.failure(RPCError.from(error))) }

    private func finish(_ result: Result<[UInt8], RPCError>) {
        let first = state.withLock { state -> Bool in
            guard state.result == nil else { return false }
            state.result = result
            return true
        }
        if first { done.signal() }
    }

    func onCancel(_ handler: @escaping @Sendable () -> Void) { state.withLock { $0.onCancel = handler } }

    /// The answer, or nil (the call then cancelled) when none came within `limit`.
    func wait(upTo limit: Duration) -> Result<[UInt8], RPCError>? {
        if done.wait(timeout: .now() + .nanoseconds(Int(limit.saturatingNanoseconds))) == .success {
            return state.withLock { $0.result }
        }
        let cancel = state.withLock { state -> (@Sendable () -> Void)? in
            if state.result == nil { state.result = .failure(RPCError(.deadlineExceeded, "timed out")) }
            defer { state.onCancel = nil }
            return state.onCancel
        }
        cancel?()
        return nil
    }
}

private final class ResultBox: Sendable {
    private let value = Locked<Result<[UInt8], RPCError>?>(nil)
    func set(_ result: Result<[UInt8], RPCError>) { value.withLock { $0 = result } }
    func get() -> Result<[UInt8], RPCError>? { value.withLock { $0 } }
}

/// A ResponseWriter that keeps what an in-process call sends.
private final class CollectingWriter: ResponseWriter {
    private let messages = Locked<[ByteBuffer]>([])
    var first: ByteBuffer? { messages.withLock { $0.first } }
    func sendHeaders(_ metadata: Metadata) async throws {}
    func send(_ message: ByteBuffer, compress: Bool) async throws { messages.withLock { $0.append(message) } }
    func setTrailers(_ metadata: Metadata) {}
}
