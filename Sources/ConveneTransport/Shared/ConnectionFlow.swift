import ConveneWire
import NIOCore

/// The sending half of connection-level flow control (PROTOCOL.md §5): the credit the peer
/// granted for all streams together.
///
/// A message starts only when the window, less what the messages already started still
/// have to send, holds all of it: it then reserves that room, so a started message never
/// waits for connection credit and incomplete messages cannot fill the peer's window
/// between them. Streams whose next message cannot start wait in `blocked`, first come
/// first served, until a WINDOW_UPDATE on stream 0 makes room.
struct ConnectionSendWindow {
    private(set) var window: Int
    /// Bytes of started messages not sent yet.
    private(set) var reserved = 0
    /// Streams waiting for room to start a message, oldest first.
    private(set) var blocked = LazyQueue<UInt32>()

    /// DATA frames sent so far (the WINDOW_UPDATEs a peer needs to send grow with them): one
    /// that ends a message or carries 1 KiB counts whole, smaller ones by the KiB they carry
    /// together (a peer granting credit a byte at a time has the server send 1-byte frames,
    /// which must not earn it WINDOW_UPDATEs).
    private(set) var dataFrames = 0
    private var smallFrameBytes = 0

    init(window: UInt32) { self.window = Int(window) }

    /// The peer's first SETTINGS names the window, which was assumed at `assumed` until then.
    mutating func setInitial(_ window: UInt32, assumed: UInt32) {
        self.window += Int(window) - Int(assumed)
    }

    /// Credit from a WINDOW_UPDATE on stream 0; false (and no change) past 2^31-1.
    mutating func grant(_ increment: UInt32) -> Bool {
        let (sum, overflow) = window.addingReportingOverflow(Int(increment))
        guard !overflow, sum <= Int(Settings.maxWindowSize) else { return false }
        window = sum
        return true
    }

    /// Reserves room for a message of `length` wire bytes; false when it must wait. Streams
    /// already waiting go first (`retrying` is the one at the head of the line).
    mutating func reserve(_ length: Int, retrying: Bool = false) -> Bool {
        guard retrying || blocked.isEmpty, window - reserved >= length else { return false }
        reserved += length
        return true
    }

    /// `bytes` of a started message were sent.
    mutating func sent(_ bytes: Int, endingMessage: Bool) {
        window -= bytes
        reserved -= bytes
        if endingMessage || bytes >= 1024 {
            dataFrames += 1
        } else {
            smallFrameBytes += bytes
            if smallFrameBytes >= 1024 {
                dataFrames += 1
                smallFrameBytes -= 1024
            }
        }
    }

    /// A started message was dropped with `bytes` unsent.
    mutating func unreserve(_ bytes: Int) {
        reserved -= bytes
    }

    mutating func block(_ streamID: UInt32) {
        if !blocked.contains(streamID) { blocked.append(streamID) }
    }

    /// The stream at the head of the line, taken off it.
    mutating func nextBlocked() -> UInt32? {
        blocked.popFirst()
    }

    /// Puts the stream that still cannot start back at the head of the line.
    mutating func stillBlocked(_ streamID: UInt32) {
        blocked.prepend(streamID)
    }
}

/// The receiving half of connection-level flow control: what the peer may still send over
/// all streams, and the credit to give back once bytes are released (taken by the
/// application, or dropped). Bytes of an incomplete message stay counted until the message
/// is whole and taken, so this window bounds all the connection holds for its calls.
struct ConnectionReceiveWindow {
    let initialWindow: Int
    private(set) var window: Int
    private var releasedNotAnnounced = 0

    init(window: UInt32) {
        initialWindow = Int(window)
        self.window = Int(window)
    }

    /// Bytes received and not released.
    var held: Int { initialWindow - window - releasedNotAnnounced }

    /// Accounts for received DATA; false when the peer sent past the window.
    mutating func receive(_ bytes: Int) -> Bool {
        window -= bytes
        return window >= 0
    }

    /// `bytes` were released; the credit to announce on stream 0, if due (in batches of at
    /// least half the window, or as soon as the peer is down to less than half of it).
    mutating func release(_ bytes: Int) -> UInt32? {
        guard bytes > 0 else { return nil }
        releasedNotAnnounced += bytes
        guard releasedNotAnnounced >= initialWindow / 2 || window < initialWindow / 2 else { return nil }
        let increment = releasedNotAnnounced
        releasedNotAnnounced = 0
        window += increment
        return UInt32(clamping: increment)
    }
}
