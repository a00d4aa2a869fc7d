import ConvenePluginABI
import ConveneRPC
import Foundation
import Synchronization

/// One call into a plugin (or one event delivery): what the host functions taking a
/// `convene_call*` act on. Lives for the duration of the hook; used from its thread only.
final class PluginCall {
    let plugin: LoadedPlugin
    let callerID: String
    let callerMetadata: Metadata
    var response: [UInt8]?
    var errorMessage: String?
    /// This call's storage writes, newest value per key (nil: deleted).
    var writes: [[UInt8]: [UInt8]?] = [:]
    /// The committed value of each key when this call first read it (for the conflict check).
    var reads: [[UInt8]: [UInt8]?] = [:]
    var events: [PluginEvent] = []
    /// Host-owned memory handed to the plugin, freed when the hook returns.
    private var arena: [UnsafeMutableRawPointer] = []
    let callerCString: UnsafeMutablePointer<CChar>

    let callerRoles: Set<Int32>

    /// Resolves the caller from the call's credential (none for an event delivery).
    init(plugin: LoadedPlugin, callerMetadata: Metadata) {
        self.plugin = plugin
        self.callerMetadata = callerMetadata
        let identity = callerMetadata.isEmpty ? nil : (try? plugin.services.identify(callerMetadata)) ?? nil
        self.callerID = identity?.partyID ?? ""
        self.callerRoles = identity?.roles ?? []
        self.callerCString = strdup(callerID)!
    }

    deinit {
        for pointer in arena { free(pointer) }
        free(callerCString)
    }

    /// Copies bytes into memory that stays valid until the hook returns.
    func keep(_ bytes: [UInt8]) -> (UnsafePointer<UInt8>, Int) {
        let pointer = malloc(max(bytes.count, 1))!
        bytes.withUnsafeBytes { pointer.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        arena.append(pointer)
        return (UnsafePointer(pointer.assumingMemoryBound(to: UInt8.self)), bytes.count)
    }

    var opaque: OpaquePointer { OpaquePointer(Unmanaged.passUnretained(self).toOpaque()) }

    static func from(_ pointer: OpaquePointer?) -> PluginCall? {
        guard let pointer else { return nil }
        return Unmanaged<PluginCall>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
    }

    /// Storage read through this call's own writes.
    func storageGet(_ key: [UInt8]) throws -> [UInt8]? {
        if let written = writes[key] { return written }
        if let seen = reads[key] { return seen }
        let committed = try plugin.services.storageGet(plugin: plugin.name, key: key)
        reads[key] = .some(committed)
        return committed
    }

    func storageNext(prefix: [UInt8], after: [UInt8]?) throws -> [UInt8]? {
        // The committed successor and this call's own keys, whichever sorts first and still exists.
        var cursor = after
        while true {
            let committed = try plugin.services.storageNext(plugin: plugin.name, prefix: prefix, after: cursor)
            let pending = writes.keys.filter { key in
                key.starts(with: prefix) && (cursor.map { key != $0 && !key.lexicographicallyPrecedes($0) } ?? true)
            }.min { $0.lexicographicallyPrecedes($1) }
            let candidate: [UInt8]?
            switch (committed, pending) {
            case (nil, nil): return nil
            case (let c?, nil): candidate = c
            case (nil, let p?): candidate = p
            case (let c?, let p?): candidate = c.lexicographicallyPrecedes(p) ? c : p
            }
            guard let key = candidate else { return nil }
            if let written = writes[key], written == nil {
                cursor = key  // deleted in this call: skip it
                continue
            }
            return key
        }
    }
}
