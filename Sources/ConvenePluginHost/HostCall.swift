import ConveneRPC
import Foundation

/// What the host functions taking a `convene_call*` act on: a call in the server
/// (`PluginCall`) or, inside a plugin runner process, its proxy (`RemoteHostCall`).
/// Functions returning bytes copy them into the call's `arena`, valid until the hook returns.
protocol HostCall: AnyObject {
    var pluginName: String { get }
    /// The calling party ("party-3"), or "" during an event delivery; valid while the call lives.
    var callerCString: UnsafePointer<CChar> { get }
    var arena: HookArena { get }
    /// The hook returned: what the arena holds is freed.
    func hookEnded()
    func hasRole(_ role: Int32) -> Bool
    /// Copies the plugin's response (its bytes are the plugin's, valid during the host function only).
    func setResponse(_ bytes: UnsafeRawBufferPointer)
    /// Forgets a response set before (a later one was refused).
    func discardResponse()
    func setError(_ message: String)
    func storageGet(_ key: [UInt8]) throws -> [UInt8]?
    func storageNext(prefix: [UInt8], after: [UInt8]?) throws -> [UInt8]?
    /// Buffers a write (nil: delete); false when refused (too large, too many).
    func storagePut(_ key: [UInt8], _ value: [UInt8]?) -> Bool
    /// Buffers an event; false when its subject is not an existing meeting or operation.
    func emit(_ event: PluginEvent) -> Bool
    /// 1 may see, 0 may not (or no such object), negative cannot tell.
    func maySee(_ objectID: String) -> Int32
    /// The server's rules' answer to a `convene_rule_question`.
    func askRule(_ question: Int32, partyID: String?, objectID: String) -> RuleAnswer
    func callService(path: String, request: [UInt8], asPlugin: Bool) -> Result<[UInt8], RPCError>
}

/// Host-owned memory handed to a plugin during one hook, freed when the hook is over.
final class HookArena {
    private var blocks: [UnsafeMutableRawPointer] = []

    deinit { release() }

    /// The arena in `slot`, made there first if there is none (a call makes one only when a
    /// host function first hands its plugin bytes; the caller holds the call's lock).
    static func made(in slot: inout HookArena?) -> HookArena {
        if let arena = slot { return arena }
        let arena = HookArena()
        slot = arena
        return arena
    }

    /// Copies `bytes` into memory that stays valid until `release`.
    func keep(_ bytes: [UInt8]) -> (UnsafePointer<UInt8>, Int) {
        let pointer = malloc(max(bytes.count, 1))!
        bytes.withUnsafeBytes { source in
            if let base = source.baseAddress { pointer.copyMemory(from: base, byteCount: bytes.count) }
        }
        blocks.append(pointer)
        return (UnsafePointer(pointer.assumingMemoryBound(to: UInt8.self)), bytes.count)
    }

    func release() {
        for block in blocks { free(block) }
        blocks.removeAll()
    }
}

/// Limits on what one call may hand the host (a plugin is not trusted to be reasonable).
enum HostLimits {
    static let maxKey = 4096
    static let maxValue = 16 << 20
    static let maxWrittenBytes = 64 << 20
    /// Keys one call writes or deletes: each is a row the commit writes while it holds the
    /// store's writer, so tiny keys are bounded by count as well as by bytes.
    static let maxWrites = 100_000
    /// What each written key costs of `maxWrittenBytes` beyond its bytes (its row, its entry).
    static let writeOverhead = 64
    /// Keys one call reads (each is kept for the commit's conflict check), and their bytes.
    static let maxReads = 20_000
    static let maxReadBytes = 64 << 20
    static let maxEvents = 1000
    static let maxEventText = 64 << 10
    static let maxResponse = 64 << 20
    /// An object or party id ("op-12", "party-3").
    static let maxID = 100
    static let maxEventKind = 200
    /// A method path a plugin calls.
    static let maxText = 1000
}
