/// How fast one connection may have its compressed requests inflated: a burst of
/// `burstBytes`, then `bytesPerSecond`. Inflating happens on the connection's event loop;
/// a peer sending deflate bombs (4 KiB each, 4 MiB inflated, at the ratio limit) made it
/// inflate for most of a second per read, while the other connections of that loop waited
/// (a health check took 3.8 s). The pace is checked after each frame, so a burst may run
/// over by what one frame inflates. Past its pace the connection stops reading until it is
/// back within it: nothing is refused, the peer is only slowed down. Both listeners pace so.
public struct InflatePacing: Sendable {
    public static let burstBytes = 16 << 20
    public static let bytesPerSecond = 64 << 20

    /// Bytes it may still inflate at once (negative: it is ahead of its pace).
    private var allowance = Double(Self.burstBytes)
    private var since: MonotonicInstant?

    public init() {}

    /// `bytes` were inflated at `now`: how long the connection must wait before it inflates
    /// more, nil when it is within its pace.
    public mutating func inflated(_ bytes: Int, now: MonotonicInstant) -> Duration? {
        if let since {
            let seconds = Double(max(0, now.nanoseconds - since.nanoseconds)) / 1e9
            allowance = min(Double(Self.burstBytes), allowance + seconds * Double(Self.bytesPerSecond))
        }
        since = now
        allowance -= Double(bytes)
        guard allowance < 0 else { return nil }
        // At most a minute (a count no frame can reach; never a trap on a conversion).
        return .nanoseconds(Int64(min(-allowance / Double(Self.bytesPerSecond), 60) * 1e9))
    }
}
