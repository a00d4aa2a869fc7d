import ConveneRPC
import Foundation
import NIOCore

extension PluginHost {
    /// Serves one call of a plugin method, answering through `completion`: the caller's
    /// credential first (UNAUTHENTICATED before the plugin runs), then the plugin on its own
    /// threads within the deadline. Called on the connection's event loop: nothing here blocks.
    /// `method` is the plugin's `index`th, taken once at registration (the manifest, a large
    /// value, is not copied per call).
    func call(_ plugin: LoadedPlugin, _ method: PluginManifest.Method, index: Int, request: ByteBuffer,
              context: ServerCallContext, completion: any UnaryCompletion) {
        if let caller = services.knownCaller(context.requestMetadata) {
            return start(plugin, method, index: index, request: request, context: context, caller: caller, completion: completion)
        }
        // A credential not known yet is checked off the event loop (it reads the database).
        Task { [self] in
            do {
                let caller = try await services.authenticate(context.requestMetadata)
                start(plugin, method, index: index, request: request, context: context, caller: caller, completion: completion)
            } catch {
                completion.fail(error)
            }
        }
    }

    private func start(_ plugin: LoadedPlugin, _ method: PluginManifest.Method, index: Int, request: ByteBuffer,
                       context: ServerCallContext, caller: PluginCaller, completion: any UnaryCompletion) {
        // One rule for every plugin, before any plugin runs: administration is not a party's work.
        guard !caller.isAdministrator else {
            return completion.fail(RPCError(.permissionDenied,
                "the administrator's credential administers parties, credentials and plugins only; it calls no method of a mechanism plugin (/\(plugin.manifest.service)/\(method.name))"))
        }
        let deadline = context.deadline ?? ContinuousClock.now.advanced(by: configuration.maxCallTime)
        let ticket = plugin.activity.ticket(deadline: deadline, label: method.name) { result in
            switch result {
            case .success(let response): completion.succeed(ByteBuffer(bytes: response))
            case .failure(let error): completion.fail(error)
            }
        }
        // A call its caller stopped waiting for (CANCEL, the deadline, the connection closed) is
        // abandoned: nothing the plugin writes afterwards is committed.
        completion.onCancel { ticket.abandon(RPCError(.cancelled, "the call was cancelled")) }
        runCommitting(plugin, .method(index: index, request: Array(buffer: request)), ticket: ticket, caller: caller,
                      authorization: context.requestMetadata[Self.authorizationKey], delivery: nil) { [self] call, status in
            try answer(plugin, method, call, status)
        }
    }

    static let authorizationKey = "authorization"

    /// What a method call answers, from what the plugin handed back (which is not trusted).
    func answer(_ plugin: LoadedPlugin, _ method: PluginManifest.Method, _ call: PluginCall, _ status: Int32) throws -> [UInt8] {
        guard status >= 0, status <= 16 else {
            throw RPCError(.unknown, "plugin \(plugin.name) returned \(status) from \(method.name), which is not a status code (0 to 16)")
        }
        guard status == 0 else {
            let code = StatusCode(rawValue: UInt8(status))
            throw RPCError(code, call.errorMessage ?? "plugin \(plugin.name) failed with \(code.name)")
        }
        guard let response = call.response else {
            throw RPCError(.internal, "plugin \(plugin.name) returned OK from \(method.name) without a response")
        }
        if plugin.validator.describes(method.outputType),
           let problem = plugin.validator.problem(in: response, as: method.outputType) {
            throw RPCError(.internal, "plugin \(plugin.name) answered \(method.name) with bytes that are not a valid \(method.outputType) (\(problem))")
        }
        return response
    }

    static let maxAttempts = 16

    /// Runs `work` for `ticket` and commits what it wrote and emitted (with the event
    /// position of a delivery) in one transaction, answering `answer`'s result; runs it again
    /// from the start when a key it read was changed before it committed, up to
    /// `maxAttempts`, with a short random pause from the third attempt on.
    func runCommitting(_ plugin: LoadedPlugin, _ work: PluginWork, ticket: CallTicket, caller: PluginCaller?,
                       authorization: String?, delivery: EventPositionMove?, attempt: Int = 1,
                       answer: @escaping @Sendable (PluginCall, Int32) throws -> [UInt8]) {
        let call = PluginCall(environment: plugin.environment, caller: caller, authorization: authorization)
        plugin.engine.run(work, call: call, ticket: ticket) { [self] status in
            do {
                let response = try answer(call, status)
                try ticket.commitAndAnswer {
                    try commit(plugin, call, delivery: delivery)
                    return response
                }
            } catch is PluginStorageConflict {
                guard attempt < Self.maxAttempts else {
                    return ticket.fail(RPCError(.aborted, "plugin \(plugin.name): too many concurrent updates of the same data; try again"))
                }
                if attempt >= 3 { usleep(UInt32.random(in: 200...2_000) * UInt32(attempt)) }
                runCommitting(plugin, work, ticket: ticket, caller: caller, authorization: authorization, delivery: delivery,
                              attempt: attempt + 1, answer: answer)
            } catch {
                ticket.fail(RPCError.from(error))
            }
        }
    }

    func commit(_ plugin: LoadedPlugin, _ call: PluginCall, delivery: EventPositionMove?) throws {
        let pending = call.pending
        guard !pending.writes.isEmpty || !pending.events.isEmpty || delivery != nil else { return }
        try services.commit(plugin: plugin.name, reads: pending.reads, writes: pending.writes, events: pending.events,
                            delivery: delivery)
    }
}
