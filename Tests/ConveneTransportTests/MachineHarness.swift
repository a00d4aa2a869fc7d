@testable import ConveneTransport
import ConveneRPC
import ConveneWire
import NIOCore
import XCTest

/// A `ServerConnectionStateMachine` driven by hand, with a fixed start instant and time
/// passed explicitly: no channel, no socket, no sleeping. It does what the channel handler
/// does with synchronous handlers (runs them inline) and records every other action.
struct MachineHarness {
    typealias Machine = ServerConnectionStateMachine<Int>
    typealias Action = ServerConnectionAction<Int>

    static let echo = MethodDescriptor(service: "t.Echo", method: "Say", kind: .unary)
    static let fail = MethodDescriptor(service: "t.Echo", method: "Fail", kind: .unary)
    static let big = MethodDescriptor(service: "t.Echo", method: "Big", kind: .unary)
    static let stream = MethodDescriptor(service: "t.Stream", method: "Both", kind: .bidirectional)
    static let serverStream = MethodDescriptor(service: "t.Stream", method: "Down", kind: .serverStreaming)

    static let router: Router = {
        let router = Router()
        try! router.register(echo, .synchronousUnary { request, context in
            context.responseTrailers.add("x-echoed", "\(request.readableBytes)")
            return request
        })
        try! router.register(fail, .synchronousUnary { _, _ in throw RPCError(.invalidArgument, "no") })
        try! router.register(big, .synchronousUnary { _, _ in ByteBuffer(repeating: 1, count: 70_000) })
        for method in [stream, serverStream] {
            try! router.register(method, .asynchronous { _, _, _ in })
        }
        return router
    }()

    /// Short, distinct limits so each test can tell which one fired.
    static var configuration: ConnectionConfiguration {
        var configuration = ConnectionConfiguration()
        configuration.handshakeTimeout = .seconds(10)
        configuration.frameTimeout = .seconds(30)
        configuration.idleTimeout = .seconds(300)
        configuration.keepaliveInterval = .seconds(60)
        configuration.keepaliveTimeout = .seconds(20)
        configuration.minPingInterval = .seconds(1)
        configuration.maxPingStrikes = 5
        configuration.settings.maxConcurrentStreams = 4
        // Off unless a test is about them (ResourceTests), so wake-ups stay the ones a test names.
        configuration.messageTimeout = nil
        configuration.callIdleTimeout = nil
        return configuration
    }

    let t0 = MonotonicInstant.now
    var machine: Machine
    /// Every action other than running a synchronous handler, in order.
    var actions: [Action] = []
    var nextCompletion = 0

    /// A harness with keepalive and the idle timeout set as given (nil: off).
    init(keepalive: Duration?, idle: Duration?) {
        var configuration = Self.configuration
        configuration.keepaliveInterval = keepalive
        configuration.idleTimeout = idle
        self.init(configuration: configuration)
    }

    init(configuration: ConnectionConfiguration = MachineHarness.configuration) {
        machine = Machine(configuration: configuration, router: Self.router, allocator: ByteBufferAllocator(), now: t0)
        machine.start(now: t0)
        collect()
    }

    /// `seconds` after the start.
    func at(_ seconds: Double) -> MonotonicInstant {
        t0 + .milliseconds(Int64((seconds * 1000).rounded()))
    }

    /// A harness after the handshake with a client whose window is `window`, and an open
    /// streaming call 1 holding one response message of 20 bytes (completion 100).
    static func waitingResponse(window: UInt32) -> MachineHarness {
        var h = MachineHarness()
        var settings = Settings()
        settings.initialWindowSize = window
        h.handshake(settings: settings)
        h.read([call(1, stream)], at: 1)
        h.machine.enqueue(streamID: 1, ByteBuffer(repeating: 7, count: 20), encoding: .identity, uncompressedSize: 20,
                          completion: 100, now: h.at(2))
        return h
    }

    /// Preface and SETTINGS from the client at the start; clears what the server wrote.
    mutating func handshake(settings: Settings = Settings()) {
        machine.receivePreface(.current, now: t0)
        read([.settings(settings)], at: 0)
        _ = written()
        actions = []
    }

    /// One read batch holding `frames`, at `seconds` after the start.
    mutating func read(_ frames: [Frame], at seconds: Double, incompleteBytes: Int = 0) {
        let now = at(seconds)
        for frame in frames where machine.isReading {
            machine.receive(frame, now: now)
            collect()
        }
        machine.readParsed(FrameReader.Remainder(pendingBytes: incompleteBytes, madeProgress: !frames.isEmpty), now: now)
        machine.readComplete()
        collect()
    }

    mutating func tick(at seconds: Double) {
        machine.tick(now: at(seconds))
        collect()
    }

    /// Works through the machine's actions as the channel handler would.
    mutating func collect() {
        while let action = machine.nextAction() {
            guard case .runSynchronous(let call) = action else {
                actions.append(action)
                continue
            }
            var context = UnaryContext(method: call.method, requestMetadata: call.metadata, deadline: call.deadline?.continuousInstant, peer: "test")
            let result: Result<SynchronousResponse, any Error> = Result {
                let message = try call.body(call.request, &context)
                return SynchronousResponse(message: message, headers: context.responseHeaders, trailers: context.responseTrailers)
            }
            machine.synchronousHandlerReturned(streamID: call.streamID, result, now: t0)
        }
    }

    /// The frames written since the last call (our preface skipped).
    mutating func written() -> [Frame] {
        var all = ByteBuffer()
        for var buffer in machine.takeOutput() { all.writeBuffer(&buffer) }
        if all.getInteger(at: all.readerIndex, as: UInt32.self) == Preface.magic { _ = try? all.readPreface() }
        var frames: [Frame] = []
        let parser = FrameParser(maxFrameSize: Settings.maxAllowedFrameSize)
        while let frame = try? parser.next(from: &all) { frames.append(frame) }
        XCTAssertEqual(all.readableBytes, 0, "the output holds whole frames")
        return frames
    }

    /// The wake-ups asked for since `actions` was last cleared, as seconds after the start.
    var wakeUps: [Double] {
        actions.compactMap {
            if case .scheduleWakeUp(let instant) = $0 { return Double((instant - t0).saturatingNanoseconds) / 1e9 }
            return nil
        }
    }

    var closed: Bool {
        actions.contains { if case .close = $0 { true } else { false } }
    }

    /// The GOAWAY among `frames`, if any.
    static func goAway(_ frames: [Frame]) -> GoAway? {
        frames.lazy.compactMap { if case .goAway(let goAway) = $0 { goAway } else { nil } }.first
    }

    static func ends(_ frames: [Frame]) -> [UInt32: CallEnd] {
        var ends: [UInt32: CallEnd] = [:]
        for case .end(let id, let end) in frames { ends[id] = end }
        return ends
    }

    static func message(_ bytes: [UInt8], encoding: MessageEncoding = .identity) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeMultipleIntegers(encoding.rawValue, UInt32(bytes.count))
        buffer.writeBytes(bytes)
        return buffer
    }

    static func call(_ id: UInt32, _ method: MethodDescriptor = echo, timeoutMicros: UInt64 = 0) -> Frame {
        .call(streamID: id, CallStart(path: method.path, timeoutMicros: timeoutMicros))
    }

    static func request(_ id: UInt32, _ bytes: [UInt8] = [1, 2], end: Bool = true) -> Frame {
        .data(streamID: id, message(bytes), endStream: end)
    }
}
