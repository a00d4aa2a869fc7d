import ConveneWire
import NIOCore

/// The receiving half of one stream's flow control: how much the peer may still send,
/// and the credit to give back.
///
/// Credit comes back for bytes the application has consumed, and at once for the bytes
/// of a message still being reassembled (so a message larger than the window can
/// complete). Buffering per stream is thus bounded by the window plus one message.
struct ReceiveFlow {
    let initialWindow: Int
    private(set) var window: Int
    private var releasedNotAnnounced = 0
    private var partialCredited = 0
    /// Credit owed for each delivered message not yet consumed, oldest first; made on the
    /// first delivery (a synchronous unary call never needs it).
    private var delivered: CircularBuffer<Int>?

    init(window: UInt32) {
        self.initialWindow = Int(window)
        self.window = Int(window)
    }

    /// Accounts for received DATA; false when the peer sent past its credit.
    mutating func receive(_ bytes: Int) -> Bool {
        window -= bytes
        return window >= 0
    }

    /// A whole message of `wireSize` bytes (prefix included) was delivered to the application.
    mutating func messageDelivered(wireSize: Int) {
        if delivered == nil { delivered = CircularBuffer(initialCapacity: 4) }
        delivered?.append(wireSize - partialCredited)
        partialCredited = 0
    }

    /// `bytes` of an incomplete message are buffered; credits what was not credited yet.
    mutating func partialBuffered(_ bytes: Int) -> UInt32? {
        let fresh = bytes - partialCredited
        guard fresh > 0 else { return nil }
        partialCredited = bytes
        return release(fresh)
    }

    /// The application took its oldest message; returns the credit to announce, if due.
    mutating func consumedOne() -> UInt32? {
        guard let owed = delivered?.popFirst() else { return nil }
        return release(owed)
    }

    /// Credit is announced in batches of at least half the initial window, or whenever
    /// the peer is down to less than half of it.
    private mutating func release(_ bytes: Int) -> UInt32? {
        releasedNotAnnounced += bytes
        guard releasedNotAnnounced > 0,
              releasedNotAnnounced >= initialWindow / 2 || window < initialWindow / 2 else { return nil }
        let increment = releasedNotAnnounced
        releasedNotAnnounced = 0
        window += increment
        return UInt32(clamping: increment)  // never above the initial window: credit only returns what came
    }
}
