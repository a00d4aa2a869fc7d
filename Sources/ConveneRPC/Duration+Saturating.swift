extension Duration {
    /// Whole nanoseconds, saturating at `Int64.min`/`Int64.max` instead of trapping: a
    /// duration can come from a peer (a timeout) and must never crash the arithmetic on it.
    public var saturatingNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (sum, sumOverflow) = scaled.addingReportingOverflow(attoseconds / 1_000_000_000)
        if sumOverflow { return seconds < 0 ? .min : .max }
        return sum
    }
}
