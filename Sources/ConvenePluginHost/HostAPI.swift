import ConvenePluginABI
import ConveneRPC
import Foundation
import Logging

/// The function table handed to every plugin. Built once; never freed.
enum HostAPI {
    nonisolated(unsafe) static let table: UnsafeMutablePointer<convene_host_api> = {
        let table = UnsafeMutablePointer<convene_host_api>.allocate(capacity: 1)
        table.initialize(to: convene_host_api(
            abi_major: UInt32(CONVENE_ABI_MAJOR),
            abi_minor: UInt32(CONVENE_ABI_MINOR),
            size: MemoryLayout<convene_host_api>.size,
            log: { host, level, message in
                guard let handle = HostHandle.from(host), let message else { return }
                let text = String(cString: message)
                let swiftLevel: Logger.Level = switch level {
                case CONVENE_LOG_DEBUG: .debug
                case CONVENE_LOG_INFO: .info
                case CONVENE_LOG_WARNING: .warning
                default: .error
                }
                handle.logger.log(level: swiftLevel, "\(text)")
            },
            set_response: { call, data, length in
                guard let call = PluginCall.from(call) else { return }
                call.response = data.map { Array(UnsafeBufferPointer(start: $0, count: length)) } ?? []
            },
            set_error: { call, message in
                guard let call = PluginCall.from(call), let message else { return }
                call.errorMessage = String(cString: message)
            },
            caller: { call in
                guard let call = PluginCall.from(call) else { return nil }
                return UnsafePointer(call.callerCString)
            },
            caller_has_role: { call, role in
                guard let call = PluginCall.from(call) else { return 0 }
                return call.callerRoles.contains(role) ? 1 : 0
            },
            storage_get: { call, key, keyLength, value, valueLength in
                guard let call = PluginCall.from(call), let key else { return -1 }
                do {
                    guard let found = try call.storageGet(Array(UnsafeBufferPointer(start: key, count: keyLength))) else { return 0 }
                    let (pointer, count) = call.keep(found)
                    value?.pointee = pointer
                    valueLength?.pointee = count
                    return 1
                } catch {
                    call.plugin.logger.error("storage_get failed", metadata: ["error": "\(error)"])
                    return -1
                }
            },
            storage_put: { call, key, keyLength, value, valueLength in
                guard let call = PluginCall.from(call), let key, keyLength > 0 else { return -1 }
                let bytes = value.map { Array(UnsafeBufferPointer(start: $0, count: valueLength)) } ?? []
                call.writes[Array(UnsafeBufferPointer(start: key, count: keyLength))] = .some(bytes)
                return 0
            },
            storage_delete: { call, key, keyLength in
                guard let call = PluginCall.from(call), let key, keyLength > 0 else { return -1 }
                call.writes[Array(UnsafeBufferPointer(start: key, count: keyLength))] = .some(nil)
                return 0
            },
            storage_next: { call, prefix, prefixLength, after, afterLength, key, keyLength in
                guard let call = PluginCall.from(call) else { return -1 }
                let prefixBytes = prefix.map { Array(UnsafeBufferPointer(start: $0, count: prefixLength)) } ?? []
                let afterBytes = after.map { Array(UnsafeBufferPointer(start: $0, count: afterLength)) }
                do {
                    guard let next = try call.storageNext(prefix: prefixBytes, after: afterBytes) else { return 0 }
                    let (pointer, count) = call.keep(next)
                    key?.pointee = pointer
                    keyLength?.pointee = count
                    return 1
                } catch {
                    call.plugin.logger.error("storage_next failed", metadata: ["error": "\(error)"])
                    return -1
                }
            },
            emit_event: { call, operation, kind, description in
                guard let call = PluginCall.from(call), let operation, let kind else { return -1 }
                call.events.append(PluginEvent(operationID: String(cString: operation), kind: String(cString: kind),
                                               description: description.map { String(cString: $0) } ?? ""))
                return 0
            },
            call_service: { call, path, request, requestLength, asPlugin, response, responseLength in
                guard let call = PluginCall.from(call), let path else { return Int32(StatusCode.internal.rawValue) }
                let bytes = request.map { Array(UnsafeBufferPointer(start: $0, count: requestLength)) } ?? []
                let result = call.plugin.invoker.invoke(call: call, path: String(cString: path), request: bytes,
                                                        asPlugin: asPlugin != 0)
                let payload: [UInt8]
                switch result {
                case .success(let bytes): payload = bytes
                case .failure(let error): payload = Array(error.message.utf8)
                }
                let (pointer, count) = call.keep(payload)
                response?.pointee = pointer
                responseLength?.pointee = count
                switch result {
                case .success: return 0
                case .failure(let error): return Int32(error.code.rawValue)
                }
            }
        ))
        return table
    }()
}
