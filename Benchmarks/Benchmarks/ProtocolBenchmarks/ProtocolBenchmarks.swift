import Benchmark
import ConvenePluginHost
import ConveneRPC
import ConveneTransport
import ConveneWire
import Foundation
import Logging
import NIOCore
import NIOEmbedded
import Synchronization

// Micro benchmarks of the protocol core. Each reports wall-clock and CPU time and the
// mallocs of one iteration; where an iteration is a batch, its name says how many operations
// it holds (divide by it for a per-frame figure). A benchmark that needs a channel, a
// connection or a plugin makes it before `startMeasurement()`: the closure runs once per
// sample, so whatever it makes before that call would otherwise be counted in every sample.

let echoPath = "/convene.benchmark.v1.Benchmark/UnaryEcho"
let framesPerBatch = 1_000

/// A 64-byte EchoRequest inside a message prefix (as in a DATA frame's payload).
func echoMessage() -> ByteBuffer {
    var message = ByteBuffer()
    message.writeMultipleIntegers(UInt8(0), UInt32(66), UInt8(0x0A), UInt8(64))
    message.writeRepeatingByte(0x43, count: 64)
    return message
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .throughput],
        warmupIterations: 100,
        maxDuration: .seconds(2),
        maxIterations: 1_000_000)

    // MARK: Baselines: what the harness and the in-memory channel cost by themselves

    Benchmark("Baseline: an empty iteration") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(benchmark) }
    }

    Benchmark("Baseline: EmbeddedChannel read and write of one buffer (no Convene code)") { benchmark in
        let channel = EmbeddedChannel(handler: PassThrough())
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        let input = echoMessage()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            try channel.writeInbound(input)
            while let output = try channel.readOutbound(as: ByteBuffer.self) { blackHole(output) }
        }
        benchmark.stopMeasurement()
    }

    Benchmark("Baseline: EmbeddedChannel made and connected (no Convene code)") { benchmark in
        for _ in benchmark.scaledIterations {
            let channel = EmbeddedChannel(handler: PassThrough())
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
            blackHole(channel)
        }
    }

    // MARK: Frames

    Benchmark("Frame encode: 1,000 DATA frames (64-byte message) into one buffer") { benchmark in
        let payload = echoMessage()
        var output = ByteBufferAllocator().buffer(capacity: framesPerBatch * 90)
        for _ in benchmark.scaledIterations {
            output.clear()
            for id in 0..<UInt32(framesPerBatch) {
                output.writeFrame(.data(streamID: id * 2 + 1, payload, endStream: false))
            }
            blackHole(output.writerIndex)
        }
    }

    Benchmark("Frame encode: 1,000 END frames (status OK, no trailers)") { benchmark in
        var output = ByteBufferAllocator().buffer(capacity: framesPerBatch * 20)
        let end = CallEnd(code: .ok)
        for _ in benchmark.scaledIterations {
            output.clear()
            for id in 0..<UInt32(framesPerBatch) {
                output.writeEndFrame(streamID: id * 2 + 1, end)
            }
            blackHole(output.writerIndex)
        }
    }

    Benchmark("Frame decode: 1,000 DATA frames (64-byte message)") { benchmark in
        var input = ByteBuffer()
        let payload = echoMessage()
        for id in 0..<UInt32(framesPerBatch) { input.writeFrame(.data(streamID: id * 2 + 1, payload, endStream: true)) }
        let parser = FrameParser()
        for _ in benchmark.scaledIterations {
            var buffer = input  // a view: reading moves only this copy's reader index
            var count = 0
            while let frame = try parser.next(from: &buffer) {
                if case .data(_, let message, _) = frame { count += message.readableBytes }
            }
            blackHole(count)
        }
    }

    Benchmark("Frame decode: 1,000 CALL frames (path, no metadata)") { benchmark in
        var input = ByteBuffer()
        for id in 0..<UInt32(framesPerBatch) { input.writeFrame(.call(streamID: id * 2 + 1, CallStart(path: echoPath))) }
        let parser = FrameParser()
        for _ in benchmark.scaledIterations {
            var buffer = input
            var count = 0
            while let frame = try parser.next(from: &buffer) {
                if case .call(_, let start) = frame { count += start.path.utf8.count }
            }
            blackHole(count)
        }
    }

    // MARK: Unary calls

    Benchmark("Unary call through the router (lookup and echo handler)") { benchmark in
        let router = try echoRouter()
        let request = echoMessage().getSlice(at: 5, length: 66)!
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            guard case .found(let registered) = router.lookup(path: echoPath),
                  case .synchronousUnary(let handler) = registered.handler else { fatalError("echo not registered") }
            var context = UnaryContext(method: registered.descriptor, requestMetadata: Metadata(), deadline: nil,
                                       peer: "127.0.0.1")
            blackHole(try handler(request, &context))
        }
        benchmark.stopMeasurement()
    }

    Benchmark("Unary call end to end in memory: CALL+DATA in, DATA+END out (one call per read)") { benchmark in
        let connection = try InMemoryConnection(router: echoRouter())
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { try connection.call(batch: 1) }
        benchmark.stopMeasurement()
    }

    Benchmark("Unary calls end to end in memory: 64 calls in one read") { benchmark in
        let connection = try InMemoryConnection(router: echoRouter())
        try connection.call(batch: 64)  // the connection's table of calls grown to 64 before measuring
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { try connection.call(batch: 64) }
        benchmark.stopMeasurement()
    }

    // MARK: Connections

    Benchmark("Connection in memory: handler made and connected, handshake, first unary call") { benchmark in
        let router = try echoRouter()
        let logger = Logger(label: "bench")
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let connection = try InMemoryConnection(router: router, logger: logger)
            try connection.call(batch: 1)
        }
        benchmark.stopMeasurement()
    }

    // MARK: Plugins

    Benchmark("Plugin call through the C ABI (template plugin: storage get+put, response, commit)") { benchmark in
        let plugin = try PluginBench()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { try await plugin.call() }
        benchmark.stopMeasurement()
        await plugin.host.shutDown()
    }
}

/// A router with the unary echo method: one per server, shared by its connections.
func echoRouter() throws -> Router {
    let router = Router()
    try router.register(MethodDescriptor(service: "convene.benchmark.v1.Benchmark", method: "UnaryEcho", kind: .unary),
                        .synchronousUnary { request, _ in request })
    return router
}

/// Writes back what it reads, flushed at the end of the read: the shape of the server's I/O.
final class PassThrough: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    func channelRead(context: ChannelHandlerContext, data: NIOAny) { context.write(data, promise: nil) }
    func channelReadComplete(context: ChannelHandlerContext) { context.flush() }
}

/// A server connection in an EmbeddedChannel after the handshake and a first call, fed
/// unary echo calls. The frames of a batch are written in place into one reused buffer
/// (stream ids must grow).
final class InMemoryConnection {
    let channel: EmbeddedChannel
    var nextStream: UInt32 = 1
    var input = ByteBufferAllocator().buffer(capacity: 64 * 160)
    let message = echoMessage()
    /// The bytes of one call's answer (its DATA and END frames), from the first call.
    var answerBytes = 0

    init(router: Router, logger: Logger = Logger(label: "bench")) throws {
        var configuration = ConnectionConfiguration()
        configuration.keepaliveInterval = nil
        configuration.idleTimeout = nil
        configuration.settings.maxConcurrentStreams = 1_000
        channel = EmbeddedChannel(handler: makeServerConnectionHandler(router: router, configuration: configuration,
                                                                      logger: logger))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        var handshake = ByteBuffer()
        handshake.writePreface(.current)
        handshake.writeFrame(.settings(Settings()))
        handshake.writeFrame(.settingsAck)
        try channel.writeInbound(handshake)
        while try channel.readOutbound(as: ByteBuffer.self) != nil {}
        answerBytes = try call(batch: 1)
    }

    /// Sends `batch` calls in one read and returns the bytes of their answers, checked to
    /// be every call's. The event loop's tasks run after the read, as a real loop would run
    /// them: a connection that has taken `ServerConnectionHandler.maxCallsPerTurn` calls in
    /// one turn answers the rest of its read in the next.
    @discardableResult
    func call(batch: Int) throws -> Int {
        input.clear()
        for _ in 0..<batch {
            input.writeCallFrame(streamID: nextStream, CallStart(path: echoPath))
            input.writeFrame(.data(streamID: nextStream, message, endStream: true))
            nextStream += 2
        }
        try channel.writeInbound(input)
        channel.embeddedEventLoop.run()
        var bytes = 0
        while let output = try channel.readOutbound(as: ByteBuffer.self) { bytes += output.readableBytes }
        precondition(bytes > 0 && (answerBytes == 0 || bytes == batch * answerBytes), "not every call answered")
        return bytes
    }
}

/// The template plugin loaded through the C ABI, with storage in memory.
final class PluginBench {
    let router = Router()
    let host: PluginHost
    let path: String
    /// A HelloRequest with name "hello" (the host checks the answer against HelloResponse).
    let request = ByteBuffer(bytes: [0x0a, 0x05] + Array("hello".utf8))

    init() throws {
        host = PluginHost(router: router, services: InMemoryPluginServices(), logger: Logger(label: "bench"))
        let folder = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        _ = try host.load(path: folder.appendingPathComponent("libConveneTemplatePlugin.so").path)
        path = "/convene.example.v1.Example/Hello"
    }

    func call() async throws {
        guard case .found(let method) = router.lookup(path: path), case .deferredUnary(let handler) = method.handler else {
            fatalError("the template plugin's method is not registered")
        }
        let response = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ByteBuffer, any Error>) in
            handler(request, ServerCallContext(method: method.descriptor, requestMetadata: Metadata(), deadline: nil, peer: "bench"),
                    ContinuationCompletion(continuation))
        }
        precondition(response.readableBytes > 0, "no response")
    }
}

/// A plugin call's answer, handed to the benchmark's continuation.
final class ContinuationCompletion: UnaryCompletion, @unchecked Sendable {
    private let continuation: CheckedContinuation<ByteBuffer, any Error>
    init(_ continuation: CheckedContinuation<ByteBuffer, any Error>) { self.continuation = continuation }
    func succeed(_ response: ByteBuffer) { continuation.resume(returning: response) }
    func fail(_ error: any Error) { continuation.resume(throwing: error) }
    func onCancel(_ handler: @escaping @Sendable () -> Void) {}
}

/// Plugin storage in a dictionary; every caller is one party; no events.
final class InMemoryPluginServices: PluginServices {
    private let storage = Mutex<[String: [[UInt8]: [UInt8]]]>([:])

    func authenticate(_ metadata: Metadata) throws -> PluginCaller { PluginCaller(partyID: "party-1", roles: []) }
    func knownCaller(_ metadata: Metadata) -> PluginCaller? { PluginCaller(partyID: "party-1", roles: []) }
    func maySee(_ caller: PluginCaller?, objectID: String) throws -> Bool? { true }
    func askRule(_ caller: PluginCaller?, question: Int32, partyID: String?, objectID: String) throws -> RuleAnswer {
        RuleAnswer(value: -1, provision: "", reason: "the benchmark has no rules")
    }
    func pluginCredential(plugin: String) throws -> String { "" }
    func storageGet(plugin: String, key: [UInt8]) throws -> [UInt8]? { storage.withLock { $0[plugin]?[key] } }
    func storageNext(plugin: String, prefix: [UInt8], after: [UInt8]?) throws -> [UInt8]? {
        storage.withLock { all in
            (all[plugin] ?? [:]).keys.filter { key in
                key.starts(with: prefix) && (after.map { after in after.lexicographicallyPrecedes(key) } ?? true)
            }.min { $0.lexicographicallyPrecedes($1) }
        }
    }
    func commit(plugin: String, reads: [(key: [UInt8], value: [UInt8]?)], writes: [(key: [UInt8], value: [UInt8]?)],
                events: [PluginEvent], delivery: EventPositionMove?) throws {
        storage.withLock { all in
            for (key, value) in writes { all[plugin, default: [:]][key] = value }
        }
    }
    func eventPosition(plugin: String) throws -> Int64 { 0 }
    func domainEvents(after sequence: Int64, kinds: [String], limit: Int) throws -> [DomainEvent] { [] }
    func holdEventLease(plugin: String, for duration: Duration) throws -> Bool { true }
    func releaseEventLease(plugin: String) throws {}
    func registerDescriptors(_ bytes: [UInt8]) throws {}
    func setServing(_ serving: Bool?, service: String) {}
}
