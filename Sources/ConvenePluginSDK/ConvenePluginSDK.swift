@_exported import ConvenePluginABI
import ConveneMessages
import Foundation
import SwiftProtobuf

/// Write a Convene plugin in Swift: describe it with a `PluginDefinition` of typed methods
/// and event handlers, as `static var definition` of a type; `make protos` generates the C
/// entry point that hands it to `start` (scripts/swift-plugin-entry.sh, Docs/PLUGINS.md).
///
/// Everything else (the C descriptor, the hooks, buffers and their ownership) is the
/// SDK's. A library with Swift code is never dlclose'd: unloading stops routing to it.
public enum ConvenePluginSDK {
    /// The plugin's entry point: builds the descriptor once and hands it to the host.
    public static func start(_ api: UnsafePointer<convene_host_api>?, _ host: OpaquePointer?,
                             _ out: UnsafeMutablePointer<UnsafePointer<convene_plugin_descriptor>?>?,
                             _ error: UnsafeMutablePointer<UnsafePointer<CChar>?>?,
                             _ definition: () -> PluginDefinition) -> Int32 {
        guard let api, api.pointee.abi_major == UInt32(CONVENE_ABI_MAJOR) else {
            error?.pointee = UnsafePointer(strdup("this plugin needs plugin ABI 1.x"))
            return Int32(CONVENE_FAILED_PRECONDITION.rawValue)
        }
        let runtime = PluginRuntime(api: api, host: host, definition: definition())
        PluginRuntime.current = runtime
        out?.pointee = UnsafePointer(runtime.descriptor)
        return 0
    }
}

/// Role numbers of convene.parties.v1.Role, for `PluginContext.hasRole`.
public enum PartyRole {
    public static let councilPresident: Int32 = 1
    public static let councilMember: Int32 = 2
    public static let secretariat: Int32 = 3
    public static let administrator: Int32 = 4
}

/// A plugin method's failure: the status code and message the caller gets.
public struct PluginError: Error, Sendable {
    public var code: convene_status
    public var message: String

    public init(_ code: convene_status, _ message: String) {
        self.code = code
        self.message = message
    }
}

extension PluginError {
    /// `value` with white space trimmed from both ends, for a text field a request must give:
    /// INVALID_ARGUMENT "FIELD: required" when it is empty, and "FIELD: must not be blank"
    /// when it holds nothing but white space (as the server's own services refuse them), each
    /// followed by ` (provision)` when one is named.
    @discardableResult
    public static func requireText(_ value: String, field: String, provision: String? = nil) throws -> String {
        let cited = provision.map { " (\($0))" } ?? ""
        guard !value.isEmpty else { throw PluginError(CONVENE_INVALID_ARGUMENT, "\(field): required\(cited)") }
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw PluginError(CONVENE_INVALID_ARGUMENT, "\(field): must not be blank\(cited)") }
        return trimmed
    }
}

/// What a plugin is: its name, service, methods, events and descriptors.
public struct PluginDefinition: Sendable {
    public var name: String
    public var version: String
    public var service: String
    public var descriptorSet: [UInt8]
    var methods: [(name: String, input: String, output: String, handler: @Sendable (PluginContext, [UInt8]) throws -> [UInt8])] = []
    var eventHandlers: [(kind: String, handler: @Sendable (PluginContext, [UInt8]) throws -> Void)] = []

    public init(name: String, version: String, service: String, descriptorSet: [UInt8] = []) {
        self.name = name
        self.version = version
        self.service = service
        self.descriptorSet = descriptorSet
    }

    /// A unary method with typed request and response.
    public mutating func unary<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ name: String, _ handler: @escaping @Sendable (Request, PluginContext) throws -> Response
    ) {
        methods.append((name, Request.protoMessageName, Response.protoMessageName, { context, bytes in
            let request: Request
            do {
                request = try Request(serializedBytes: bytes)
            } catch {
                throw PluginError(CONVENE_INVALID_ARGUMENT, "request is not a valid \(Request.protoMessageName)")
            }
            return try handler(request, context).serializedBytes()
        }))
    }

    /// Events of `kind` ("meeting.convened"), whose payload is a serialized OperationEvent.
    public mutating func on(_ kind: String, _ handler: @escaping @Sendable (PluginContext, [UInt8]) throws -> Void) {
        eventHandlers.append((kind, handler))
    }
}

/// The host's services during one call or event delivery.
public struct PluginContext {
    let api: UnsafePointer<convene_host_api>
    let call: OpaquePointer

    /// The calling party ("party-3"), or "" during an event.
    public var caller: String { api.pointee.caller(call).map { String(cString: $0) } ?? "" }

    public func get(_ key: String) -> [UInt8]? {
        var value: UnsafePointer<UInt8>?
        var length = 0
        let found = Array(key.utf8).withUnsafeBufferPointer {
            api.pointee.storage_get(call, $0.baseAddress, $0.count, &value, &length)
        }
        guard found == 1, let value else { return nil }
        return Array(UnsafeBufferPointer(start: value, count: length))
    }

    public func get<M: SwiftProtobuf.Message>(_ key: String, as: M.Type) -> M? {
        get(key).flatMap { try? M(serializedBytes: $0) }
    }

    /// Writes `value` at `key`, committed with the call. Throws (INTERNAL) when the host
    /// refuses the write, over one of its limits (a key of at most 4096 bytes, a value of at
    /// most 16 MiB, 100,000 keys and 64 MiB written in one call): a call whose write was
    /// refused must not answer as if it had written (the error ends it, and nothing commits).
    public func put(_ key: String, _ value: [UInt8]) throws {
        let keyBytes = Array(key.utf8)
        let status = keyBytes.withUnsafeBufferPointer { k in
            value.withUnsafeBufferPointer { v in api.pointee.storage_put(call, k.baseAddress, k.count, v.baseAddress, v.count) }
        }
        guard status == 0 else { throw Self.refused("storage_put", key: key, value: value.count) }
    }

    public func put(_ key: String, _ message: some SwiftProtobuf.Message) throws {
        try put(key, try message.serializedBytes())
    }

    /// Deletes `key`, committed with the call. Throws (INTERNAL) when the host refuses it (see `put`).
    public func delete(_ key: String) throws {
        let keyBytes = Array(key.utf8)
        let status = keyBytes.withUnsafeBufferPointer { api.pointee.storage_delete(call, $0.baseAddress, $0.count) }
        guard status == 0 else { throw Self.refused("storage_delete", key: key, value: nil) }
    }

    static func refused(_ function: String, key: String, value: Int?) -> PluginError {
        let shown = key.utf8.count > 64 ? String(decoding: key.utf8.prefix(64), as: UTF8.self) + "…" : key
        let size = value.map { ", a value of \($0) bytes" } ?? ""
        return PluginError(CONVENE_INTERNAL,
            "the host refused \(function) of key '\(shown)' (\(key.utf8.count) bytes\(size)): over a storage limit of one call (keys of at most 4096 bytes, values of at most 16 MiB, 100,000 keys and 64 MiB written, 20,000 keys read), or the call has ended")
    }

    /// Keys starting with `prefix`, in byte order.
    public func keys(prefix: String) -> [String] {
        var result: [String] = []
        var after: [UInt8]?
        let prefixBytes = Array(prefix.utf8)
        while true {
            var key: UnsafePointer<UInt8>?
            var length = 0
            let found = prefixBytes.withUnsafeBufferPointer { p in
                (after ?? []).withUnsafeBufferPointer { a in
                    api.pointee.storage_next(call, p.baseAddress, p.count, after == nil ? nil : a.baseAddress, a.count, &key, &length)
                }
            }
            guard found == 1, let key else { return result }
            let bytes = Array(UnsafeBufferPointer(start: key, count: length))
            result.append(String(decoding: bytes, as: UTF8.self))
            after = bytes
        }
    }

    /// The next number of a named counter, stored with the call.
    public func nextNumber(_ counter: String) throws -> UInt64 {
        var value: UInt64 = 0
        // A read the host refuses (the call past its read limit) is not "no counter yet": that
        // would start it again at 1, over records numbered before.
        var stored: UnsafePointer<UInt8>?
        var length = 0
        let key = Array(("seq/" + counter).utf8)
        let found = key.withUnsafeBufferPointer { api.pointee.storage_get(call, $0.baseAddress, $0.count, &stored, &length) }
        guard found >= 0 else { throw Self.refused("storage_get", key: "seq/" + counter, value: nil) }
        if found == 1, let stored, length == 8 { value = UnsafeRawPointer(stored).loadUnaligned(as: UInt64.self) }
        value += 1
        try put("seq/" + counter, withUnsafeBytes(of: value) { Array($0) })
        return value
    }

    /// Emits a plugin event on an operation ("op-3"). Throws (INTERNAL) when the host refuses
    /// it: a kind outside the plugin's namespace or the server's own, a subject that does not
    /// exist, more than 1,000 events or 64 KiB of text in one call, a call that has ended.
    public func emit(operation: String, kind: String, _ description: String) throws {
        try checkEmitted(api.pointee.emit_event(call, operation, kind, description), kind: kind, subject: operation)
    }

    /// Emits a plugin event about a meeting ("mtg-3", seen in WatchOperation only by parties
    /// that may see the meeting) or an operation ("op-3"). Throws as `emit(operation:kind:_:)`.
    public func emit(about subject: String, kind: String, _ description: String) throws {
        guard has(\.emit_event_about), let emit = api.pointee.emit_event_about else {
            return try self.emit(operation: subject, kind: kind, description)
        }
        try checkEmitted(emit(call, subject, kind, description), kind: kind, subject: subject)
    }

    private func checkEmitted(_ status: Int32, kind: String, subject: String) throws {
        guard status == 0 else {
            throw PluginError(CONVENE_INTERNAL, "the host refused to emit event '\(kind)' about '\(subject)' (see emit_event in convene_plugin.h)")
        }
    }

    /// Who receives an event emitted with `emit(about:kind:_:to:)`.
    public enum Audience: Sendable, Equatable {
        /// Whoever may see its subject (as `emit(about:kind:_:)`).
        case subject
        /// The Council, the Secretariat and one party ("party-3").
        case councilSecretariatAnd(party: String)
        /// The Council, the Secretariat and the operation's contributors.
        case contributors
    }

    /// Emits a plugin event about an operation ("op-3") that WatchOperation shows only to
    /// `audience` among the parties that may read the operation: for an event that tells of
    /// something not all of them may list. Not emitted at all (false) by a host older than
    /// ABI 1.3, which could not narrow it; throws as `emit(operation:kind:_:)` when refused.
    @discardableResult
    public func emit(about subject: String, kind: String, _ description: String, to audience: Audience) throws -> Bool {
        guard audience != .subject else {
            try emit(about: subject, kind: kind, description)
            return true
        }
        guard has(\.emit_event_to), let emit = api.pointee.emit_event_to else { return false }
        let status: Int32
        switch audience {
        case .subject: return false
        case .councilSecretariatAnd(let party):
            status = emit(call, subject, kind, description, Int32(CONVENE_AUDIENCE_PARTY.rawValue), party)
        case .contributors:
            status = emit(call, subject, kind, description, Int32(CONVENE_AUDIENCE_CONTRIBUTORS.rawValue), nil)
        }
        try checkEmitted(status, kind: kind, subject: subject)
        return true
    }

    /// Whether the caller may see a meeting ("mtg-3") or operation ("op-2") by the server's
    /// rules (false when it may not, or when there is no such thing). Check before naming one.
    public func maySee(_ id: String) -> Bool {
        guard has(\.caller_may_see), let maySee = api.pointee.caller_may_see else { return false }
        return maySee(call, id) == 1
    }

    /// Throws NOT_FOUND, as the server's services do, unless the caller may see `id`; for an
    /// operation the caller knows only to exist (no role, contribution or invitation on it),
    /// PERMISSION_DENIED with the server's reason, as its ListContributions answers. An id left
    /// empty is INVALID_ARGUMENT naming `field`.
    public func requireVisible(_ id: String, field: String) throws {
        // A field left out is the request's fault, as the services say (not "no such object").
        guard !id.isEmpty else { throw PluginError(CONVENE_INVALID_ARGUMENT, "\(field): required") }
        if id.hasPrefix("op-"), let answer = ask(CONVENE_RULE_OPERATION_ACCESS, about: id),
           answer.value == Int32(CONVENE_ACCESS_EXISTENCE.rawValue) {
            throw PluginError(CONVENE_PERMISSION_DENIED, "\(field): \(answer.reason)")
        }
        guard maySee(id) else {
            let noun = id.hasPrefix("mtg-") ? "meeting" : id.hasPrefix("op-") ? "operation" : "object"
            throw PluginError(CONVENE_NOT_FOUND, "\(field): no \(noun) \(id)")
        }
    }

    /// The server's rules' answer to a question (`convene_rule_question`) about the caller (party
    /// nil) or a party, and an operation or meeting; nil when the host is older than ABI 1.2.
    public func ask(_ question: convene_rule_question, party: String? = nil, about object: String) -> RuleAnswer? {
        guard has(\.ask_rule), let ask = api.pointee.ask_rule else { return nil }
        var provision: UnsafePointer<CChar>?
        var reason: UnsafePointer<CChar>?
        let value = ask(call, Int32(bitPattern: question.rawValue), party, object, &provision, &reason)
        return RuleAnswer(value: value, provision: provision.map { String(cString: $0) } ?? "",
                          reason: reason.map { String(cString: $0) } ?? "")
    }

    /// What the caller may read of an operation (`convene_access`): CONVENE_ACCESS_NONE when
    /// there is no such operation, or when the host cannot tell.
    public func access(_ operationID: String) -> convene_access {
        guard let answer = ask(CONVENE_RULE_OPERATION_ACCESS, about: operationID), answer.value >= 0 else {
            return maySee(operationID) ? CONVENE_ACCESS_PARTY : CONVENE_ACCESS_NONE
        }
        return convene_access(rawValue: UInt32(answer.value))
    }

    /// Refuses a party id that names no country (a Member State), by the server's rules
    /// (CONVENE_RULE_COUNTRY): INVALID_ARGUMENT when malformed, NOT_FOUND when there is no such
    /// party, FAILED_PRECONDITION naming what it is otherwise; UNAVAILABLE when the server cannot
    /// tell (a failed read, a host too old to answer): nothing unchecked is taken.
    public func requireCountry(_ partyID: String, field: String) throws {
        guard partyID.hasPrefix("party-"), partyID.count > "party-".count else {
            throw PluginError(CONVENE_INVALID_ARGUMENT, "\(field): a party id (party-N) is required, not '\(partyID)'")
        }
        guard let answer = ask(CONVENE_RULE_COUNTRY, party: partyID, about: "") else {
            throw PluginError(CONVENE_UNAVAILABLE, "\(field): the server could not tell whether \(partyID) is a country (it answers no rule question); try again")
        }
        guard answer.value != 1 else { return }
        if answer.value == 0 {
            throw PluginError(CONVENE_FAILED_PRECONDITION, "\(field): \(answer.reason)")
        }
        if answer.reason.hasPrefix("no party") {
            throw PluginError(CONVENE_NOT_FOUND, "\(field): no party \(partyID)")
        }
        if answer.reason.contains("is not a valid party id") {
            throw PluginError(CONVENE_INVALID_ARGUMENT, "\(field): '\(partyID)' is not a valid party id (party-N)")
        }
        // The server could not tell (a failed read, a host that does not know the question):
        // nothing unchecked is taken.
        throw PluginError(CONVENE_UNAVAILABLE, "\(field): the server could not tell whether \(partyID) is a country (\(answer.reason)); try again")
    }

    /// Whether the host's table has a function (it may be older than this SDK).
    private func has<T>(_ field: KeyPath<convene_host_api, T>) -> Bool {
        guard let offset = MemoryLayout<convene_host_api>.offset(of: field) else { return false }
        return api.pointee.size >= offset + MemoryLayout<T>.size
    }

    /// Calls a server method as the caller (default) or as the plugin.
    public func call<Request, Response>(_ method: HostMethod<Request, Response>, _ request: Request,
                                        asPlugin: Bool = false) throws -> Response {
        try call(method.path, request, as: Response.self, asPlugin: asPlugin)
    }

    /// Calls a server method by path as the caller (default) or as the plugin.
    public func call<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ path: String, _ request: Request, as: Response.Type, asPlugin: Bool = false
    ) throws -> Response {
        let bytes = try request.serializedBytes() as [UInt8]
        var response: UnsafePointer<UInt8>?
        var length = 0
        let status = bytes.withUnsafeBufferPointer {
            api.pointee.call_service(call, path, $0.baseAddress, $0.count, asPlugin ? 1 : 0, &response, &length)
        }
        let data = response.map { Array(UnsafeBufferPointer(start: $0, count: length)) } ?? []
        guard status == 0 else {
            throw PluginError(convene_status(rawValue: UInt32(clamping: status)), String(decoding: data, as: UTF8.self))
        }
        return try Response(serializedBytes: data)
    }

    /// Whether the caller holds a role (convene.parties.v1.Role: 1 President, 2 Council
    /// member, 3 Secretariat, 4 administrator).
    public func hasRole(_ role: Int32) -> Bool {
        api.pointee.caller_has_role(call, role) == 1
    }

    /// Whether the caller sits on the Council (President or member).
    public var isCouncil: Bool { hasRole(PartyRole.councilPresident) || hasRole(PartyRole.councilMember) }

    /// Throws PERMISSION_DENIED with `why` unless the caller holds one of `roles`.
    public func require(_ why: String, anyOf roles: Int32...) throws {
        guard roles.contains(where: hasRole) else { throw PluginError(CONVENE_PERMISSION_DENIED, why) }
    }

    /// All stored messages whose keys start with `prefix`.
    public func all<M: SwiftProtobuf.Message>(_ prefix: String, as: M.Type) -> [M] {
        keys(prefix: prefix).compactMap { get($0, as: M.self) }
    }

    public func log(_ message: String) {
        PluginRuntime.current?.log(CONVENE_LOG_INFO, message)
    }
}

/// Owns the C descriptor and dispatches hooks to the definition's Swift closures.
final class PluginRuntime: @unchecked Sendable {
    nonisolated(unsafe) static var current: PluginRuntime?

    let api: UnsafePointer<convene_host_api>
    let host: OpaquePointer?
    let definition: PluginDefinition
    let descriptor: UnsafeMutablePointer<convene_plugin_descriptor>
    var methodsBase: UnsafeMutablePointer<convene_method>?
    private var strings: [UnsafeMutablePointer<CChar>] = []

    init(api: UnsafePointer<convene_host_api>, host: OpaquePointer?, definition: PluginDefinition) {
        self.api = api
        self.host = host
        self.definition = definition
        descriptor = .allocate(capacity: 1)
        func c(_ s: String) -> UnsafePointer<CChar> {
            let p = strdup(s)!
            strings.append(p)
            return UnsafePointer(p)
        }
        let methods = UnsafeMutablePointer<convene_method>.allocate(capacity: max(definition.methods.count, 1))
        for (i, method) in definition.methods.enumerated() {
            methods[i] = convene_method(name: c(method.name), kind: CONVENE_UNARY, input_type: c(method.input),
                                        output_type: c(method.output), on_call: { _, method, call, request, length in
                PluginRuntime.dispatch(method: method, call: call, request: request, length: length)
            })
        }
        methodsBase = methods
        let kinds = Array(Set(definition.eventHandlers.map(\.kind))).sorted()
        let events = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: max(kinds.count, 1))
        for (i, kind) in kinds.enumerated() { events[i] = c(kind) }
        let set = UnsafeMutablePointer<UInt8>.allocate(capacity: max(definition.descriptorSet.count, 1))
        set.initialize(from: definition.descriptorSet, count: definition.descriptorSet.count)
        descriptor.initialize(to: convene_plugin_descriptor(
            abi_major: UInt32(CONVENE_ABI_MAJOR), abi_minor: UInt32(CONVENE_ABI_MINOR),
            size: MemoryLayout<convene_plugin_descriptor>.size,
            name: c(definition.name), version: c(definition.version), service: c(definition.service),
            methods: UnsafePointer(methods), method_count: definition.methods.count,
            events: UnsafePointer(events), event_count: kinds.count,
            descriptor_set: UnsafePointer(set), descriptor_set_len: definition.descriptorSet.count,
            state: nil,
            on_event: kinds.isEmpty ? nil : { _, call, kind, payload, length in
                PluginRuntime.dispatchEvent(call: call, kind: kind, payload: payload, length: length)
            },
            on_unload: nil))
    }

    func log(_ level: convene_log_level, _ message: String) {
        api.pointee.log(host, level, message)
    }

    /// Runs the Swift handler of the method `method` points to in our table.
    static func dispatch(method: UnsafePointer<convene_method>?, call: OpaquePointer?,
                         request: UnsafePointer<UInt8>?, length: Int) -> Int32 {
        guard let runtime = current, let call, let method, let base = runtime.methodsBase else {
            return Int32(CONVENE_INTERNAL.rawValue)
        }
        let index = UnsafePointer(base).distance(to: method)
        guard index >= 0, index < runtime.definition.methods.count else { return Int32(CONVENE_INTERNAL.rawValue) }
        let bytes = request.map { Array(UnsafeBufferPointer(start: $0, count: length)) } ?? []
        do {
            let response = try runtime.definition.methods[index].handler(PluginContext(api: runtime.api, call: call), bytes)
            response.withUnsafeBufferPointer { runtime.api.pointee.set_response(call, $0.baseAddress, $0.count) }
            return 0
        } catch let error as PluginError {
            runtime.api.pointee.set_error(call, error.message)
            return Int32(error.code.rawValue)
        } catch {
            runtime.api.pointee.set_error(call, "internal error")
            return Int32(CONVENE_INTERNAL.rawValue)
        }
    }

    static func dispatchEvent(call: OpaquePointer?, kind: UnsafePointer<CChar>?, payload: UnsafePointer<UInt8>?, length: Int) {
        guard let runtime = current, let call, let kind else { return }
        let kindString = String(cString: kind)
        let bytes = payload.map { Array(UnsafeBufferPointer(start: $0, count: length)) } ?? []
        let context = PluginContext(api: runtime.api, call: call)
        for handler in runtime.definition.eventHandlers where handler.kind == kindString || handler.kind == "*" {
            do { try handler.handler(context, bytes) } catch {
                runtime.log(CONVENE_LOG_ERROR, "event \(kindString): \(error)")
            }
        }
    }
}

/// The server's rules' answer to a plugin's question: the value (negative when the rules cannot
/// answer), the provision it rests on, and why, in the resolution's words.
public struct RuleAnswer: Sendable, Equatable {
    public var value: Int32
    public var provision: String
    public var reason: String
}
