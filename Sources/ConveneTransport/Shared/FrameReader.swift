import ConveneWire
import NIOCore

/// Turns a connection's bytes into its preface and frames, on either side.
///
/// Bytes of an incomplete frame are kept between reads (a read with nothing pending is
/// parsed in place, without a copy). Each read reports whether a frame is left incomplete
/// and since when that frame has been pending, for the frame timeout.
struct FrameReader {
    enum Event {
        case preface(Preface)
        case frame(Frame)
    }

    /// What one read left behind.
    struct Remainder {
        /// Bytes of an incomplete preface or frame kept for the next read.
        var pendingBytes: Int
        /// Whether this read completed a frame (or the preface): what is pending started in it.
        var madeProgress: Bool
    }

    private let parser: FrameParser
    /// The paths of this connection's last calls: a method called again costs no new String.
    private var recentPaths = RecentPaths()
    private var pending: ByteBuffer?
    private var prefaceRead = false

    init(limits: Settings) {
        parser = FrameParser(limits: limits)
    }

    /// Parses what `bytes` completes, calling `body` for the preface (first, once) and each
    /// frame in order while it returns true. Throws the first framing error; the connection
    /// is then beyond use.
    mutating func read(_ bytes: inout ByteBuffer, _ body: (consuming Event) -> Bool) throws(WireError) -> Remainder {
        keep(&bytes)
        guard var buffer = pending else { return Remainder(pendingBytes: 0, madeProgress: false) }
        pending = nil
        var progress = false
        var going = true
        if !prefaceRead {
            guard let preface = try buffer.readPreface() else { return keep(buffer, progress: false) }
            prefaceRead = true
            progress = true
            going = body(.preface(preface))
        }
        while going, let frame = try parser.next(from: &buffer, recentPaths: &recentPaths) {
            progress = true
            going = body(.frame(consume frame))  // moved, not copied: a frame holds its payload's bytes
        }
        return keep(buffer, progress: progress)
    }

    /// Keeps `bytes` for later without parsing them (the connection is paused); a read
    /// with nothing pending keeps them in place, without a copy.
    mutating func keep(_ bytes: inout ByteBuffer) {
        guard bytes.readableBytes > 0 else { return }
        if var combined = pending {
            pending = nil
            // The bytes already parsed go first: appended behind them, a buffer that never
            // ends on a frame boundary (a peer streaming frames that straddle its reads)
            // grew by every byte the connection received, its whole window and more, none
            // of it counted by the memory budget.
            combined.discardReadBytes()
            combined.writeBuffer(&bytes)
            pending = combined
        } else {
            pending = bytes
        }
    }

    /// Bytes kept for the next read.
    var pendingBytes: Int { pending?.readableBytes ?? 0 }

    /// The storage those bytes hold.
    var pendingStorage: Int { pending?.storageCapacity ?? 0 }

    private mutating func keep(_ rest: ByteBuffer, progress: Bool) -> Remainder {
        pending = rest.readableBytes > 0 ? rest : nil
        return Remainder(pendingBytes: rest.readableBytes, madeProgress: progress)
    }
}
