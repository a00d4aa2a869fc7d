import ConveneRPC
import Foundation
import NIOCore
import Synchronization

/// Serves calls into loaded plugins: a method call from the router, an event delivery from
/// a subscription. Kept apart from `PluginHost`, which its watchdog references weakly: a
/// weakly referenced object gets a side table, and every retain of it (each call's, when the
/// calls went through the host) takes the runtime's slow path.
final class PluginDispatch: Sendable {
    let services: any PluginServices
    /// Longest a plugin call may take when the caller set no deadline (and an event delivery).
    let maxCallTime: Duration

    init(services: any PluginServices, maxCallTime: Duration) {
        self.services = services
        self.maxCallTime = maxCallTime
    }

    static let authorizationKey = "authorization"
    static let maxAttempts = 16

    /// Serves one call of a plugin method, answering through `completion`: the caller's
    /// credential first (UNAUTHENTICATED before the plugin runs), then the plugin on its own
    /// threads within the deadline. Called on the connection's event loop: nothing here blocks.
    func call(_ method: PluginMethod, request: ByteBuffer, context: ServerCallContext, completion: any UnaryCompletion) {
        if let caller = services.knownCaller(context.requestMetadata) {
            return start(method, request: request, context: context, caller: caller, completion: completion)
        }
        // A credential not known yet is checked off the event loop (it reads the database).
        Task { [self] in
            do {
                let caller = try await services.authenticate(context.requestMetadata)
                start(method, request: request, context: context, caller: caller, completion: completion)
            } catch {
                completion.fail(error)
            }
        }
    }

    private func start(_ method: PluginMethod, request: ByteBuffer, context: ServerCallContext, caller: PluginCaller,
                       completion: any UnaryCompletion) {
        let plugin = method.plugin
        // One rule for every plugin, before any plugin runs: administration is not a party's work.
        guard !caller.isAdministrator else {
            return completion.fail(RPCError(.permissionDenied,
                "the administrator's credential administers parties, credentials and plugins only; it calls no method of a mechanism plugin (/\(plugin.manifest.service)/\(method.name))"))
        }
        // The plugin gets what its type declares, checked; nil: the bytes as they came.
        var declared: [UInt8]?
        if let type = method.checkedInput {
            switch plugin.validator.checkedRequest(request, as: type) {
            case .asSent: break
            case .stripped(let bytes): declared = bytes
            case .refused(let problem): return completion.fail(Self.refusal(problem, method))
            }
        }
        let deadline = context.deadline ?? ContinuousClock.now.advanced(by: maxCallTime)
        let (admitted, held) = plugin.activity.admittedTicket(deadline: deadline, label: method.name, answerer: .unary(completion),
                                                              requestBytes: request.readableBytes)
        guard let ticket = admitted else {
            return completion.fail(RPCError(.resourceExhausted,
                "plugin \(plugin.name): its calls in flight hold \(held) bytes of requests, and this one's \(request.readableBytes) would take them past \(plugin.activity.maxRequestBytes) (--plugin-request-bytes); try again later"))
        }
        // A call its caller stopped waiting for (CANCEL, the deadline, the connection closed) is
        // abandoned: nothing the plugin writes afterwards is committed.
        completion.onCancel(telling: ticket)
        run(PluginAttempt(plugin: plugin, work: .method(index: method.index, request: declared ?? Array(buffer: request)),
                          ticket: ticket, delivery: nil, number: 1, method: method),
            caller: caller, authorization: context.requestMetadata[Self.authorizationKey])
    }

    /// INVALID_ARGUMENT for a request the plugin never sees: "FIELD: contains the control
    /// character U+001B", as the server's own services say it.
    static func refusal(_ problem: WireValidator.RequestProblem, _ method: PluginMethod) -> RPCError {
        switch problem {
        case .text(let field, let what): RPCError(.invalidArgument, "\(field): \(what)")
        case .malformed(let what): RPCError(.invalidArgument, "the request is not a valid \(method.inputType) (\(what))")
        }
    }

    /// Delivers an event to `plugin` for `ticket`, committing its reaction with the position moved.
    func deliver(_ plugin: LoadedPlugin, kind: String, payload: [UInt8], ticket: CallTicket, delivery: EventPositionMove) {
        run(PluginAttempt(plugin: plugin, work: .event(kind: kind, payload: payload), ticket: ticket,
                          delivery: delivery, number: 1, method: nil),
            caller: nil, authorization: nil)
    }

    /// Runs one attempt: its hook on the plugin's engine, then `PluginCall.hookReturned`.
    func run(_ attempt: consuming PluginAttempt, caller: PluginCaller?, authorization: String?) {
        // Moved into the call, not copied (a copy is a retain and a release of each reference).
        let call = PluginCall(caller: caller, authorization: authorization, attempt: consume attempt)
        call.attempt.plugin.engine.run(call)
    }

    /// What a method call answers, from what the plugin handed back (which is not trusted).
    func answer(_ method: PluginMethod, _ call: PluginCall, _ status: Int32) throws -> ByteBuffer {
        let plugin = method.plugin
        guard status >= 0, status <= 16 else {
            throw RPCError(.unknown, "plugin \(plugin.name) returned \(status) from \(method.name), which is not a status code (0 to 16)")
        }
        guard status == 0 else {
            let code = StatusCode(rawValue: UInt8(status))
            throw RPCError(code, call.errorMessage ?? "plugin \(plugin.name) failed with \(code.name)")
        }
        guard let response = call.takeResponse() else {
            let why = call.errorMessage.map { " (\($0))" } ?? ""
            throw RPCError(.internal, "plugin \(plugin.name) returned OK from \(method.name) without a response\(why)")
        }
        if let type = method.validatedType, let problem = plugin.validator.problem(in: response, as: type) {
            throw RPCError(.internal, "plugin \(plugin.name) answered \(method.name) with bytes that are not a valid \(method.outputType) (\(problem))")
        }
        method.noteResponse(size: response.readableBytes)
        return response
    }

    func commit(_ plugin: LoadedPlugin, _ call: PluginCall, delivery: EventPositionMove?) throws {
        let pending = call.pending
        try services.commit(plugin: plugin.name, reads: pending.reads, listings: pending.listings, writes: pending.writes,
                            events: pending.events, delivery: delivery)
    }
}

/// A method of a loaded plugin as the router serves it: made once, at registration, so a
/// call copies nothing of the manifest.
final class PluginMethod: Sendable {
    let plugin: LoadedPlugin
    /// Its place in the plugin's descriptor.
    let index: Int
    let name: String
    let outputType: String
    let inputType: String
    /// The input type in the plugin's descriptor set, when it describes it: requests are then
    /// checked against it before the plugin runs (an opaque type's pass as they are).
    let checkedInput: WireValidator.MessageType?
    /// The output type in the plugin's descriptor set, when it describes it (then answers are
    /// checked against it). A type it does not describe is opaque to the host ("bytes" in the
    /// test fixtures): its answers pass as they are.
    let validatedType: WireValidator.MessageType?
    /// How much room a call makes for its response (`PluginCall`).
    let room = ResponseRoom()

    init(plugin: LoadedPlugin, index: Int, method: PluginManifest.Method) {
        self.plugin = plugin
        self.index = index
        name = method.name
        outputType = method.outputType
        inputType = method.inputType
        checkedInput = plugin.validator.type(named: method.inputType)
        validatedType = plugin.validator.type(named: method.outputType)
    }

    var responseCapacity: Int { room.capacity }

    func noteResponse(size: Int) { room.note(size: size) }
}

/// How much room a method's calls make for a response, made where the call is (see
/// `PluginCall`): the largest response seen, from `minimum` up to `maximum`. A response
/// that does not fit still comes back whole (its buffer grows where it is given).
final class ResponseRoom: Sendable {
    static let minimum = 256
    static let maximum = 16 << 10
    private let largest = Atomic<Int>(ResponseRoom.minimum)

    var capacity: Int { largest.load(ordering: .relaxed) }

    /// A response of `size` bytes was given: later calls make room for one as large, up to `maximum`.
    func note(size: Int) {
        // Racing calls may store a smaller size over a larger one: the room then grows again
        // at the next large response; it is a hint, never a limit.
        guard size > largest.load(ordering: .relaxed), size <= Self.maximum else { return }
        largest.store(size, ordering: .relaxed)
    }
}

/// One attempt of a call into a plugin, and what to do once its hook returned.
struct PluginAttempt: @unchecked Sendable {
    let plugin: LoadedPlugin
    /// The plugin's (not a reference of the attempt's own: each is a retain and a release per call).
    var dispatch: PluginDispatch { plugin.dispatch }
    let work: PluginWork
    let ticket: CallTicket
    /// The event position an event delivery moves (nil for a method call).
    let delivery: EventPositionMove?
    /// 1 for the first; a storage conflict runs the call again from the start.
    let number: Int
    /// The method called, whose answer is checked; nil for an event delivery (answers nothing).
    let method: PluginMethod?

    func next() -> PluginAttempt {
        PluginAttempt(plugin: plugin, work: work, ticket: ticket, delivery: delivery,
                      number: number + 1, method: method)
    }
}

extension PluginCall {
    /// The hook returned `status` (on a thread that may block): commits what it wrote and
    /// emitted (with the event position of a delivery) in one transaction and answers; runs
    /// the call again from the start when a key it read was changed before it committed, up
    /// to `PluginDispatch.maxAttempts`, with a short random pause from the third attempt on.
    func hookReturned(_ status: Int32) {
        let ticket = attempt.ticket
        do {
            var response = ByteBuffer()
            if let method = attempt.method { response = try method.plugin.dispatch.answer(method, self, status) }
            // The call (made on the connection's loop, as were its request and ticket) is
            // freed there, with the answer.
            try ticket.commitAndAnswer(releasing: self) {
                try commitPending()
                return response
            }
        } catch is PluginStorageConflict {
            guard attempt.number < PluginDispatch.maxAttempts else {
                return ticket.fail(RPCError(.aborted, "plugin \(attempt.plugin.name): too many concurrent updates of the same data; try again"))
            }
            if attempt.number >= 3 { usleep(UInt32.random(in: 200...2_000) * UInt32(attempt.number)) }
            attempt.dispatch.run(attempt.next(), caller: caller, authorization: authorization)
        } catch {
            ticket.fail(RPCError.from(error))
        }
    }

    /// Commits what the hook wrote and emitted, with the event position of a delivery; a
    /// call that did neither (most method calls) commits nothing.
    private func commitPending() throws {
        guard attempt.delivery != nil || !hasNothingToCommit else { return }
        try attempt.dispatch.commit(attempt.plugin, self, delivery: attempt.delivery)
    }
}
