/// Policing of the PINGs a peer sends (PROTOCOL.md §2.7).
///
/// A PING received less than `minInterval` after the previous PING is a strike (the first
/// PING of a connection never is); a PING received `minInterval` or more after the previous
/// one sets the strikes back to zero. The PING that makes the strikes exceed `maxStrikes`
/// is refused: with the defaults (1 s, 5) the 7th PING of a run of PINGs each less than
/// 1 s apart. ACKs of the server's own PINGs are not counted.
struct PingPolicy {
    let minInterval: Duration
    let maxStrikes: Int
    private var lastPing: MonotonicInstant?
    private(set) var strikes = 0

    init(minInterval: Duration, maxStrikes: Int) {
        self.minInterval = minInterval
        self.maxStrikes = maxStrikes
    }

    /// Records a PING received at `now`; false when it is one strike too many.
    mutating func received(at now: MonotonicInstant) -> Bool {
        defer { lastPing = now }
        if let lastPing, now - lastPing < minInterval {
            if strikes < Int.max { strikes += 1 }
        } else {
            strikes = 0
        }
        return strikes <= maxStrikes
    }
}
