import ConveneClient
import ConveneMessages
import ConvenePluginHost
import ConveneRPC
import Foundation
import Logging
import NIOCore
import SwiftProtobuf

/// One plugin loaded into an in-memory host (no server, no sockets): call its methods as a
/// caller of your choice, seed its storage, deliver domain events, and read what it committed.
/// What `convene plugin test` runs its scripts on.
public final class PluginTestSession: @unchecked Sendable {
    public let services = MemoryPluginServices()
    public let plugin: LoadedPlugin
    private let host: PluginHost
    private let router = Router()
    private let warnings: WarningLog
    /// Decodes and encodes the plugin's messages from its own descriptor set (empty without one).
    public let codec: DynamicCodec
    private var credential = 0
    private let timeout: Duration

    /// The outcome of a call: the response, or the status and its message.
    public typealias Outcome = Result<[UInt8], RPCError>

    /// Loads `library` in this process. Throws the loader's error (`PluginLoadError`).
    public init(library: String, timeout: Duration = .seconds(10)) throws {
        let warnings = WarningLog()
        self.warnings = warnings
        self.timeout = timeout
        var logger = Logger(label: "convene.plugin-test") { _ in CollectingLogHandler(log: warnings) }
        logger.logLevel = .debug
        var configuration = PluginHost.Configuration()
        configuration.isolation = .inProcess
        configuration.maxCallTime = timeout
        configuration.drainTime = .seconds(2)
        host = PluginHost(router: router, services: services, configuration: configuration, logger: logger)
        plugin = try host.load(path: library)
        var files: [Google_Protobuf_FileDescriptorProto] = []
        if let set = try? Google_Protobuf_FileDescriptorSet(serializedBytes: plugin.descriptorSet) { files = set.file }
        codec = DynamicCodec(pool: DescriptorPool(files: files))
        setCaller(partyID: "party-1", roles: [2])
    }

    /// Unloads the plugin (its `on_unload` runs).
    public func close() async {
        await host.shutDown(deadline: ContinuousClock.now.advanced(by: .seconds(2)))
    }

    /// The party the next calls act for, with its role numbers (1 President, 2 member, 3 Secretariat, 4 administrator).
    public func setCaller(partyID: String, roles: Set<Int32>) {
        credential += 1
        let value = "Bearer plugin-test-\(credential)"
        services.setCaller(PluginCaller(partyID: partyID, roles: roles), credential: value)
        currentCredential = value
    }
    private var currentCredential = ""

    /// Calls one of the plugin's methods (by its name or full path) with serialized request bytes.
    public func call(_ method: String, request: [UInt8]) -> Outcome {
        let path = method.hasPrefix("/") ? method : "/\(plugin.service)/\(method)"
        guard case .found(let registered) = router.lookup(path: path) else {
            return .failure(RPCError(.unimplemented, "the plugin has no method \(method) (it serves \(plugin.methodNames.joined(separator: ", ")))"))
        }
        guard case .deferredUnary(let body) = registered.handler else {
            return .failure(RPCError(.unimplemented, "\(path) is not a plugin method"))
        }
        var metadata = Metadata()
        metadata.add("authorization", currentCredential)
        let completion = WaitingCompletion()
        body(ByteBuffer(bytes: request),
             ServerCallContext(method: registered.descriptor, requestMetadata: metadata, deadline: nil, peer: "plugin-test"), completion)
        return completion.wait(upTo: timeout + .seconds(5))
    }

    /// The method's declared request and response types.
    public func types(of method: String) -> (input: String, output: String)? {
        plugin.manifest.methods.first { $0.name == method }.map { ($0.inputType, $0.outputType) }
    }

    /// Appends a domain event (an OperationEvent of `kind` about `subject`) to the log and
    /// waits, up to `limit`, until the plugin has reacted to it. nil when it did; otherwise why not.
    public func deliver(kind: String, subject: String, operation: String, description: String,
                        limit: Duration = .seconds(10)) -> String? {
        guard plugin.events.contains(kind) || plugin.events.contains("*") else {
            return "the plugin does not subscribe to \(kind) (it subscribes to \(plugin.events.isEmpty ? "nothing" : plugin.events.joined(separator: ", ")))"
        }
        warnings.take()
        let sequence = services.append(kind: kind) { sequence in
            let event = Convene_Consultation_V1_OperationEvent.with {
                $0.sequence = sequence
                $0.operationID = operation
                $0.kind = kind
                $0.subjectID = subject
                $0.description_p = description
                $0.time = Google_Protobuf_Timestamp(date: Date(timeIntervalSince1970: 1_000_000_000 + Double(sequence)))
            }
            return (try? event.serializedBytes()) ?? []
        }
        host.eventsCommitted()
        let deadline = ContinuousClock.now.advanced(by: limit)
        while ContinuousClock.now < deadline {
            if (services.position(plugin: plugin.name) ?? 0) >= sequence { return nil }
            if let failure = warnings.take().first(where: { $0.contains("event delivery failed") }) { return failure }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return "the plugin did not react within \(limit)"
    }
}

/// Warnings and errors the host logged, so a failed event reaction can be reported.
final class WarningLog: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    func add(_ line: String) {
        lock.lock()
        lines.append(line)
        lock.unlock()
    }

    @discardableResult
    func take() -> [String] {
        lock.lock()
        defer { lines = []; lock.unlock() }
        return lines
    }
}

struct CollectingLogHandler: LogHandler {
    let log: WarningLog
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .warning

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        guard event.level >= .warning else { return }
        let all = metadata.merging(event.metadata ?? [:]) { _, new in new }
        let details = all.keys.sorted().filter { $0 != "plugin" }.map { "\($0): \(all[$0]!)" }.joined(separator: ", ")
        log.add(details.isEmpty ? "\(event.message)" : "\(event.message) (\(details))")
    }
}

/// The completion of one in-memory call: the test's thread waits for it.
private final class WaitingCompletion: UnaryCompletion, @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var result: Result<[UInt8], RPCError>?

    func succeed(_ response: ByteBuffer) { finish(.success(Array(buffer: response))) }
    func fail(_ error: any Error) { finish(.failure(RPCError.from(error))) }
    func onCancel(_ handler: @escaping @Sendable () -> Void) {}

    private func finish(_ outcome: Result<[UInt8], RPCError>) {
        lock.lock()
        let first = result == nil
        if first { result = outcome }
        lock.unlock()
        if first { done.signal() }
    }

    /// The host answers every call within its deadline (the session's timeout); `limit` is a backstop.
    func wait(upTo limit: Duration) -> Result<[UInt8], RPCError> {
        if done.wait(timeout: .now() + .milliseconds(Int(limit.components.seconds) * 1000)) == .timedOut {
            return .failure(RPCError(.deadlineExceeded, "the plugin host did not answer within \(limit)"))
        }
        lock.lock()
        defer { lock.unlock() }
        return result ?? .failure(RPCError(.internal, "no answer"))
    }
}
