import ConvenePluginABI
import ConveneRPC
import Foundation
import Logging

/// Where a plugin's `log` goes: the server's log, or (in a runner process) the server's log
/// through the runner's connection.
protocol HostLogger: AnyObject {
    func log(_ level: Logger.Level, _ message: String)
}

/// The function table handed to every plugin, in the server and in runner processes.
/// Every `convene_call*` and `convene_host*` is resolved through a generation-checked
/// table: a stale or forged handle makes the function fail (and is logged), never crash.
enum HostAPI {
    static let calls = HandleTable<any HostCall>()
    static let hosts = HandleTable<any HostLogger>()
    /// Where a misuse of handles is reported (stale or forged; rate-limited).
    static let misuseLogger = Locked(Logger(label: "convene.plugins"))
    private static let misuseReports = Locked(MisuseReports())

    private struct MisuseReports {
        var lastReport = ContinuousClock.now.advanced(by: .seconds(-10))
        var suppressed = 0
    }

    static func call(_ handle: OpaquePointer?, _ function: StaticString) -> (any HostCall)? {
        switch calls.resolve(handle) {
        case .live(let call): return call
        case .stale(let owner): reportMisuse("plugin \(owner) called \(function) with a call handle whose hook had returned")
        case .unknown: reportMisuse("a plugin called \(function) with a call handle the host never issued")
        }
        return nil
    }

    private static func reportMisuse(_ message: String) {
        let (report, suppressed) = misuseReports.withLock { state -> (Bool, Int) in
            let now = ContinuousClock.now
            guard now - state.lastReport >= .seconds(1) else {
                state.suppressed += 1
                return (false, 0)
            }
            state.lastReport = now
            defer { state.suppressed = 0 }
            return (true, state.suppressed)
        }
        guard report else { return }
        misuseLogger.withLock { $0 }.error("\(message); refused",
                                          metadata: suppressed > 0 ? ["similar-refusals-not-logged": "\(suppressed)"] : [:])
    }

    private static func bytes(_ pointer: UnsafePointer<UInt8>?, _ length: Int) -> [UInt8]? {
        guard length >= 0 else { return nil }
        guard length > 0 else { return [] }
        guard let pointer else { return nil }
        return Array(UnsafeBufferPointer(start: pointer, count: length))
    }

    private static func text(_ pointer: UnsafePointer<CChar>?, max: Int) -> String? {
        guard let pointer else { return nil }
        let length = strnlen(pointer, max + 1)
        guard length <= max else { return nil }
        return String(decoding: UnsafeBufferPointer(start: UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self),
                                                    count: length), as: UTF8.self)
    }

    /// `text`, but a text over `max` bytes is cut there and says so (a log line or an error
    /// message: dropped whole, the plugin's author never learned why it did not appear).
    private static func truncatedText(_ pointer: UnsafePointer<CChar>?, max: Int) -> String? {
        guard let pointer else { return nil }
        if let whole = text(pointer, max: max) { return whole }
        // Cut so that, said so, it is still within the limit (a runner's message past it is
        // taken for a forged one), and not inside a character.
        let note = "… (cut at the host's limit of \(max) bytes)"
        let start = UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self)
        var kept = max - note.utf8.count
        while kept > 0, start[kept] & 0xC0 == 0x80 { kept -= 1 }
        return String(decoding: UnsafeBufferPointer(start: start, count: kept), as: UTF8.self) + note
    }

    private static func cString(_ text: String, in arena: HookArena) -> UnsafePointer<CChar> {
        let (pointer, _) = arena.keep(Array(text.utf8) + [0])
        return UnsafeRawPointer(pointer).assumingMemoryBound(to: CChar.self)
    }

    nonisolated(unsafe) static let table: UnsafeMutablePointer<convene_host_api> = {
        let table = UnsafeMutablePointer<convene_host_api>.allocate(capacity: 1)
        table.initialize(to: convene_host_api(
            abi_major: UInt32(CONVENE_ABI_MAJOR),
            abi_minor: UInt32(CONVENE_ABI_MINOR),
            size: MemoryLayout<convene_host_api>.size,
            log: { host, level, message in
                guard let logger = hosts.object(host), let text = truncatedText(message, max: HostLimits.maxEventText) else { return }
                let swiftLevel: Logger.Level = switch level {
                case CONVENE_LOG_DEBUG: .debug
                case CONVENE_LOG_INFO: .info
                case CONVENE_LOG_WARNING: .warning
                default: .error
                }
                logger.log(swiftLevel, text)
            },
            set_response: { handle, data, length in
                guard let call = call(handle, "set_response"), length >= 0, length == 0 || data != nil else { return }
                guard length <= HostLimits.maxResponse else {
                    // Said with the call's answer ("returned OK without a response (...)"); a
                    // response set before is not answered in its place.
                    call.discardResponse()
                    return call.setError("set_response of \(length) bytes refused: over the host's limit of \(HostLimits.maxResponse >> 20) MiB")
                }
                call.setResponse(UnsafeRawBufferPointer(start: data, count: length))
            },
            set_error: { handle, message in
                guard let call = call(handle, "set_error"), let text = truncatedText(message, max: HostLimits.maxEventText) else { return }
                call.setError(text)
            },
            caller: { handle in
                call(handle, "caller")?.callerCString
            },
            caller_has_role: { handle, role in
                guard let call = call(handle, "caller_has_role") else { return 0 }
                return call.hasRole(role) ? 1 : 0
            },
            storage_get: { handle, key, keyLength, value, valueLength in
                guard let call = call(handle, "storage_get"), keyLength <= HostLimits.maxKey,
                      let key = bytes(key, keyLength) else { return -1 }
                do {
                    guard let found = try call.storageGet(key) else { return 0 }
                    let (pointer, count) = call.arena.keep(found)
                    value?.pointee = pointer
                    valueLength?.pointee = count
                    return 1
                } catch {
                    return -1
                }
            },
            storage_put: { handle, key, keyLength, value, valueLength in
                guard let call = call(handle, "storage_put"), keyLength > 0, keyLength <= HostLimits.maxKey,
                      valueLength <= HostLimits.maxValue,
                      let key = bytes(key, keyLength), let value = bytes(value, valueLength) else { return -1 }
                return call.storagePut(key, value) ? 0 : -1
            },
            storage_delete: { handle, key, keyLength in
                guard let call = call(handle, "storage_delete"), keyLength > 0, keyLength <= HostLimits.maxKey,
                      let key = bytes(key, keyLength) else { return -1 }
                return call.storagePut(key, nil) ? 0 : -1
            },
            storage_next: { handle, prefix, prefixLength, after, afterLength, key, keyLength in
                guard let call = call(handle, "storage_next"), prefixLength <= HostLimits.maxKey,
                      afterLength <= HostLimits.maxKey, let prefix = bytes(prefix, prefixLength) else { return -1 }
                let afterBytes: [UInt8]?
                if after == nil {
                    afterBytes = nil
                } else {
                    guard let given = bytes(after, afterLength) else { return -1 }
                    afterBytes = given
                }
                do {
                    guard let next = try call.storageNext(prefix: prefix, after: afterBytes) else { return 0 }
                    let (pointer, count) = call.arena.keep(next)
                    key?.pointee = pointer
                    keyLength?.pointee = count
                    return 1
                } catch {
                    return -1
                }
            },
            emit_event: { handle, operation, kind, description in
                guard let call = call(handle, "emit_event"), let subject = text(operation, max: HostLimits.maxID),
                      subject.hasPrefix("op-"), let kind = text(kind, max: HostLimits.maxEventKind),
                      let description = description == nil ? "" : text(description, max: HostLimits.maxEventText)
                else { return -1 }
                return call.emit(PluginEvent(subjectID: subject, kind: kind, description: description)) ? 0 : -1
            },
            call_service: { handle, path, request, requestLength, asPlugin, response, responseLength in
                guard let call = call(handle, "call_service") else { return Int32(StatusCode.internal.rawValue) }
                let result: Result<[UInt8], RPCError>
                if let path = text(path, max: HostLimits.maxText), requestLength <= HostLimits.maxResponse,
                   let request = bytes(request, requestLength) {
                    result = call.callService(path: path, request: request, asPlugin: asPlugin != 0)
                } else {
                    result = .failure(RPCError(.invalidArgument, "call_service: a method path (at most \(HostLimits.maxText) bytes) and a request (at most \(HostLimits.maxResponse)) are required"))
                }
                let payload: [UInt8]
                switch result {
                case .success(let bytes): payload = bytes
                case .failure(let error): payload = Array(error.message.utf8)
                }
                let (pointer, count) = call.arena.keep(payload)
                response?.pointee = pointer
                responseLength?.pointee = count
                switch result {
                case .success: return 0
                case .failure(let error): return Int32(error.code.rawValue)
                }
            },
            caller_may_see: { handle, object in
                guard let call = call(handle, "caller_may_see"), let object = text(object, max: HostLimits.maxID) else { return -1 }
                return call.maySee(object)
            },
            emit_event_about: { handle, subject, kind, description in
                guard let call = call(handle, "emit_event_about"), let subject = text(subject, max: HostLimits.maxID),
                      let kind = text(kind, max: HostLimits.maxEventKind),
                      let description = description == nil ? "" : text(description, max: HostLimits.maxEventText)
                else { return -1 }
                return call.emit(PluginEvent(subjectID: subject, kind: kind, description: description)) ? 0 : -1
            },
            ask_rule: { handle, question, party, object, provision, reason in
                guard let call = call(handle, "ask_rule") else { return -1 }
                let answer: RuleAnswer
                if let object = text(object, max: HostLimits.maxID), party == nil || text(party, max: HostLimits.maxID) != nil {
                    answer = call.askRule(question, partyID: text(party, max: HostLimits.maxID), objectID: object)
                } else {
                    answer = .cannot("ask_rule: an object id (and a party id, when given) of at most 100 bytes")
                }
                // NUL-terminated copies, valid until the hook returns.
                if let provision { provision.pointee = cString(answer.provision, in: call.arena) }
                if let reason { reason.pointee = cString(answer.reason, in: call.arena) }
                return answer.value
            },
            emit_event_to: { handle, subject, kind, description, audience, party in
                guard let call = call(handle, "emit_event_to"), let subject = text(subject, max: HostLimits.maxID),
                      let kind = text(kind, max: HostLimits.maxEventKind),
                      let description = description == nil ? "" : text(description, max: HostLimits.maxEventText),
                      let audience = PluginEventAudience(code: audience, partyID: audience == 1 ? text(party, max: HostLimits.maxID) : nil)
                else { return -1 }
                return call.emit(PluginEvent(subjectID: subject, kind: kind, description: description, audience: audience)) ? 0 : -1
            }
        ))
        return table
    }()
}
