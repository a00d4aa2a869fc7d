import ConveneFuzzPluginHost
import ConveneRPC
import ConveneTransport
import ConveneWire
import Logging
import NIOCore
import NIOEmbedded

/// What the fuzzers exercise: each takes arbitrary bytes and must neither crash nor hang.
/// A broken invariant is a `precondition` failure, which libFuzzer reports as a crash.
public enum FuzzTargets {
    public static let all: [(name: String, run: @Sendable ([UInt8]) -> Void)] = [
        ("frames", frames), ("decompression", decompression), ("connection", connection), ("fields", fields),
        ("plugin", plugin),
    ]

    /// A C plugin (groups-of-friends, protobuf-c) fed arbitrary requests, event payloads and
    /// host-service answers through the plugin ABI: it answers with a status, never crashes,
    /// and never reads or writes past what it was given (AddressSanitizer in `make fuzz`).
    public static func plugin(_ data: [UInt8]) {
        let status = data.withUnsafeBufferPointer { convene_fuzz_friends_plugin($0.baseAddress, $0.count) }
        precondition((0...16).contains(status), "the plugin returned \(status), not a status code")
    }

    /// The frame decoder: arbitrary bytes never crash it; whatever it decodes re-encodes to
    /// bytes that decode to the same frames however they are split.
    public static func frames(_ data: [UInt8]) {
        var buffer = ByteBuffer(bytes: data)
        let parser = FrameParser(maxFrameSize: Settings.maxAllowedFrameSize)
        var decoded: [Frame] = []
        while let frame = try? parser.next(from: &buffer) { decoded.append(frame) }
        guard !decoded.isEmpty else { return }
        var encoded = ByteBuffer()
        for frame in decoded { encoded.writeFrame(frame) }
        // Split the encoding at a point the input chooses, and decode it in two reads.
        let split = Int(data.first ?? 0) % (encoded.readableBytes + 1)
        var first = encoded.getSlice(at: 0, length: split)!
        var again: [Frame] = []
        while let frame = try? parser.next(from: &first) { again.append(frame) }
        var rest = first
        rest.writeImmutableBuffer(encoded.getSlice(at: split, length: encoded.readableBytes - split)!)
        while let frame = try? parser.next(from: &rest) { again.append(frame) }
        precondition(again == decoded, "decode(encode(frames)) differs from the frames")
    }

    /// Inflation of arbitrary data stays within its limits; valid data round-trips.
    public static func decompression(_ data: [UInt8]) {
        let limit: UInt32 = 1 << 20
        if let inflated = try? MessageCompression.inflate(ByteBuffer(bytes: data), limit: limit) {
            precondition(inflated.readableBytes <= Int(limit), "inflated past the limit")
        }
        let deflated = MessageCompression.deflate(ByteBuffer(bytes: data))
        let back = try? MessageCompression.inflate(deflated, limit: UInt32(max(data.count, 1)))
        precondition(back == ByteBuffer(bytes: data), "deflate/inflate does not round-trip")
    }

    /// A whole server connection fed a valid handshake, then arbitrary bytes.
    public static func connection(_ data: [UInt8]) {
        let channel = EmbeddedChannel(handler: makeServerConnectionHandler(router: router, configuration: configuration,
                                                                            logger: Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() })))
        _ = try? channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        var input = ByteBuffer()
        input.writePreface(.current)
        input.writeFrame(.settings(Settings()))
        input.writeBytes(data)
        _ = try? channel.writeInbound(input)
        channel.embeddedEventLoop.run()
        while (try? channel.readOutbound(as: ByteBuffer.self)) != nil {}
        _ = try? channel.finish()
    }

    static let configuration: ConnectionConfiguration = {
        var configuration = ConnectionConfiguration()
        configuration.keepaliveInterval = nil
        configuration.idleTimeout = nil
        return configuration
    }()

    static let router: Router = {
        let router = Router()
        try! router.register(MethodDescriptor(service: "fuzz.Echo", method: "Say", kind: .unary),
                             .synchronousUnary { request, _ in request })
        try! router.register(MethodDescriptor(service: "fuzz.Echo", method: "Fail", kind: .unary),
                             .synchronousUnary { _, _ in throw RPCError(.invalidArgument, "no") })
        return router
    }()
}
