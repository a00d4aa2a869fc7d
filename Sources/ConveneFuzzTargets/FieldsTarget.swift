import ConveneRPC
import ConveneTransport
import ConveneWire
import Logging
import NIOCore
import NIOEmbedded

extension FuzzTargets {
    /// A whole server connection (handler, state machine, parser) fed well-formed frames
    /// whose numbers are the fuzzer's: stream ids (0, the top bit, going down), timeouts up
    /// to 2^64-1, window increments, SETTINGS ids and values, declared frame and message
    /// lengths, codes; and time passing (the embedded event loop's, which the connection's
    /// clock follows), so deadlines, keepalive and the idle, frame and handshake timeouts
    /// fire. The server must never crash, must answer only with whole, well-formed frames,
    /// and must never write for a stream no CALL opened.
    public static func fields(_ data: [UInt8]) {
        var input = FuzzInput(data)
        let loop = EmbeddedEventLoop()
        let channel = EmbeddedChannel(handler: makeServerConnectionHandler(
            router: router, configuration: ConnectionConfiguration(), logger: quiet, clock: .following(loop)), loop: loop)
        _ = try? channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        var script = FieldsScript()
        script.pending.writePreface(.current)
        script.writeSettings(&input)
        while !input.isEmpty {
            switch input.u8() % 12 {
            case 10:
                script.deliver(to: channel)
            case 11:
                script.deliver(to: channel)
                loop.advanceTime(by: .milliseconds(Int64(input.u16()) * Int64(1 + input.u8() % 8)))
            case let op:
                script.writeFrame(op, &input)
            }
        }
        script.deliver(to: channel)
        channel.embeddedEventLoop.run()
        script.checkServerOutput(of: channel)
        _ = try? channel.finish()
    }

    static let quiet = Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() })
}

/// The frames a `fields` run writes, and what the server may answer about.
private struct FieldsScript {
    var pending = ByteBuffer()
    /// Every stream id the script sent a CALL on: the only ids the server may write about.
    var callIDs: Set<UInt32> = []
    var lastCall: UInt32 = 0

    static let paths = ["/fuzz.Echo/Say", "/fuzz.Echo/Fail", "/fuzz.Echo/Nope", "/fuzz.Nope/Say", "not-a-path"]

    mutating func deliver(to channel: EmbeddedChannel) {
        guard pending.readableBytes > 0 else { return }
        _ = try? channel.writeInbound(pending)
        pending.clear()
    }

    /// A stream id near the last CALL's (valid or just off it) or any 32-bit value.
    mutating func streamID(_ input: inout FuzzInput) -> UInt32 {
        switch input.u8() % 4 {
        case 0: lastCall
        case 1: lastCall &+ 2
        case 2: lastCall &- 2
        default: input.u32()
        }
    }

    mutating func writeSettings(_ input: inout FuzzInput) {
        let count = Int(input.u8() % 4)
        pending.writeFrameHeader(FrameHeader(length: UInt32(count * 6), type: .settings, flags: [], streamID: 0))
        for _ in 0..<count { pending.writeMultipleIntegers(input.u16() % 8, input.u32()) }
    }

    mutating func writeFrame(_ op: UInt8, _ input: inout FuzzInput) {
        switch op {
        case 0:
            let id = streamID(&input)
            lastCall = id
            callIDs.insert(id)
            let timeout = input.u8() % 2 == 0 ? UInt64(input.u16()) * 1_000 : input.u64()
            var metadata = Metadata()
            if input.u8() % 4 == 0 { metadata.add("x-fuzz", "\(input.u16())") }
            pending.writeFrame(.call(streamID: id, CallStart(path: Self.paths[Int(input.u8()) % Self.paths.count],
                                                             timeoutMicros: timeout,
                                                             responseEncoding: MessageEncoding(rawValue: input.u8()),
                                                             metadata: metadata)))
        case 1, 2:
            // DATA: a message prefix with any encoding and declared length, then some bytes.
            var payload = ByteBuffer()
            payload.writeMultipleIntegers(input.u8() % 3, input.u8() % 2 == 0 ? UInt32(input.u8()) : input.u32())
            payload.writeBytes(input.bytes(Int(input.u8())))
            pending.writeFrame(.data(streamID: streamID(&input), payload, endStream: input.u8() % 2 == 0))
        case 3:
            pending.writeFrame(.windowUpdate(streamID: streamID(&input), increment: input.u32()))
        case 4:
            pending.writeFrame(.cancel(streamID: streamID(&input), StatusCode(rawValue: input.u8())))
        case 5:
            writeSettings(&input)
        case 6:
            pending.writeFrame(.ping(input.u64(), ack: input.u8() % 2 == 0))
        case 7:
            pending.writeFrame(.goAway(GoAway(lastStreamID: input.u32(), code: GoAwayCode(rawValue: input.u8()), message: "fuzz")))
        case 8:
            let id = streamID(&input)
            pending.writeFrame(input.u8() % 2 == 0 ? .headers(streamID: id, Metadata()) : .end(streamID: id, CallEnd(code: .ok)))
        default:
            // Any header (but CALL's: its ids are the script's to track), any declared length,
            // as much payload as the input has left for it.
            let length = input.u32()
            let type = input.u8() % 10
            pending.writeFrameHeader(FrameHeader(length: length, type: FrameType(rawValue: type == 1 ? 10 : type),
                                                 flags: FrameFlags(rawValue: input.u8()), streamID: streamID(&input)))
            pending.writeBytes(input.bytes(Int(min(length, 256))))
        }
    }

    /// Everything the server wrote parses as its preface and whole frames about streams the
    /// script opened (or the connection).
    func checkServerOutput(of channel: EmbeddedChannel) {
        var all = ByteBuffer()
        while let buffer = try? channel.readOutbound(as: ByteBuffer.self) { all.writeImmutableBuffer(buffer) }
        guard all.readableBytes > 0 else { return }
        precondition((try? all.readPreface()) == .current, "the server's first bytes are not its preface")
        let parser = FrameParser(maxFrameSize: Settings.maxAllowedFrameSize, maxMetadataSize: .max)
        while true {
            let frame: Frame?
            do {
                frame = try parser.next(from: &all)
            } catch {
                preconditionFailure("the server wrote a malformed frame: \(error)")
            }
            guard let frame else { break }
            switch frame {
            case .data(let id, _, _), .end(let id, _), .headers(let id, _), .windowUpdate(let id, _):
                precondition(callIDs.contains(id), "the server wrote \(frame.type) on stream \(id), which no CALL opened")
            case .goAway(let goAway):
                precondition(goAway.lastStreamID == 0 || callIDs.contains(goAway.lastStreamID),
                             "GOAWAY names stream \(goAway.lastStreamID), which no CALL opened")
            case .call, .cancel:
                preconditionFailure("the server sent \(frame.type), which only a client sends")
            case .settings, .settingsAck, .ping:
                break
            }
        }
        precondition(all.readableBytes == 0, "the server left \(all.readableBytes) bytes of a frame unwritten")
    }
}

/// Fuzzer bytes read as big-endian numbers; zeros once they run out.
struct FuzzInput {
    private var rest: ArraySlice<UInt8>

    init(_ data: [UInt8]) { rest = data[...] }

    var isEmpty: Bool { rest.isEmpty }

    mutating func u8() -> UInt8 { rest.popFirst() ?? 0 }
    mutating func u16() -> UInt16 { UInt16(u8()) << 8 | UInt16(u8()) }
    mutating func u32() -> UInt32 { UInt32(u16()) << 16 | UInt32(u16()) }
    mutating func u64() -> UInt64 { UInt64(u32()) << 32 | UInt64(u32()) }

    mutating func bytes(_ count: Int) -> [UInt8] {
        let taken = rest.prefix(count)
        rest = rest.dropFirst(taken.count)
        return Array(taken)
    }
}
