/// Running totals of a method's calls for the status page: calls, failures, and a latency
/// histogram over fixed buckets (cheap to keep; percentiles come from differences).
struct MethodTally: Sendable {
    /// Upper bounds in nanoseconds: 50 µs to 10 s, then everything above. The Prometheus
    /// histogram `convene_call_duration_seconds` has the same buckets (all but the last).
    static let bounds: [Int64] = [50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000,
                                  25_000_000, 50_000_000, 100_000_000, 250_000_000, 500_000_000, 1_000_000_000,
                                  2_500_000_000, 10_000_000_000, .max]
    var calls = 0
    var failures = 0
    /// Calls per bucket (not cumulative).
    var buckets = [Int](repeating: 0, count: bounds.count)

    /// The bucket a duration falls in.
    @inline(__always)
    static func bucket(nanoseconds: Int64) -> Int {
        var index = 0
        while index < bounds.count - 1, nanoseconds > bounds[index] { index += 1 }
        return index
    }

    mutating func record(nanoseconds: Int64, failed: Bool) {
        calls += 1
        if failed { failures += 1 }
        buckets[Self.bucket(nanoseconds: nanoseconds)] += 1
    }

    /// What happened between `earlier` and this.
    func since(_ earlier: MethodTally) -> MethodTally {
        var delta = MethodTally()
        delta.calls = calls - earlier.calls
        delta.failures = failures - earlier.failures
        delta.buckets = zip(buckets, earlier.buckets).map { $0 - $1 }
        return delta
    }

    /// The upper bound of the bucket holding the `q` quantile (0...1), in nanoseconds; nil without calls.
    func quantile(_ q: Double) -> Int64? {
        guard calls > 0 else { return nil }
        let target = max(1, Int((Double(calls) * q).rounded(.up)))
        var seen = 0
        for (index, count) in buckets.enumerated() {
            seen += count
            if seen >= target { return Self.bounds[index] }
        }
        return Self.bounds.last
    }
}
