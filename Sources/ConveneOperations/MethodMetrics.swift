import ConveneRPC
import ConveneWire

/// The metrics of one method: calls by transport and status code, and latency. Made once per
/// method when it is registered; label values come from the router, never from a client.
///
/// A call's end is on the hot path of every call, so it costs three relaxed atomic adds (the
/// call's transport and code, its latency bucket, the latency sum) and nothing else: no lock, no
/// lookup, no allocation. A scrape renders these counters as `convene_calls_total` and
/// `convene_call_duration_seconds` (MethodMetrics+Exposition.swift), and the status page reads
/// them as a `MethodTally`.
final class MethodMetrics: MethodInstrument {
    let descriptor: MethodDescriptor
    let owner: String
    /// Calls by transport and code, then calls by latency bucket, then the latency sum in nanoseconds.
    private let counters = AtomicCounters(count: Layout.count)

    enum Layout {
        static let transports = TransportKind.allCases
        /// Codes 0...16; a code above (which the transports never send) is counted as UNKNOWN.
        static let codes = 17
        static let bucketsStart = transports.count * codes
        static let sum = bucketsStart + MethodTally.bounds.count
        static let count = sum + 1

        @inline(__always)
        static func call(_ transport: TransportKind, _ code: StatusCode) -> Int {
            let row = switch transport {
            case .native: 0
            case .grpc: 1
            case .inProcess: 2
            }
            let column = code.rawValue < codes ? Int(code.rawValue) : Int(StatusCode.unknown.rawValue)
            return row * codes + column
        }
    }

    init(descriptor: MethodDescriptor, owner: String) {
        self.descriptor = descriptor
        self.owner = owner
    }

    func callEnded(transport: TransportKind, code: StatusCode, duration: Duration) {
        let nanoseconds = max(0, duration.saturatingNanoseconds)
        counters.add(1, at: Layout.call(transport, code))
        counters.add(1, at: Layout.bucketsStart + MethodTally.bucket(nanoseconds: nanoseconds))
        counters.add(Int(truncatingIfNeeded: nanoseconds), at: Layout.sum)
    }

    /// Calls that ended with `code` on `transport` so far.
    func calls(_ transport: TransportKind, _ code: StatusCode) -> Int {
        counters.value(at: Layout.call(transport, code))
    }

    /// Calls per latency bucket so far (not cumulative), and the sum of their durations.
    var latency: (buckets: [Int], sumNanoseconds: Int) {
        (MethodTally.bounds.indices.map { counters.value(at: Layout.bucketsStart + $0) }, counters.value(at: Layout.sum))
    }

    /// The running totals for the status page. Read counter by counter while calls may end, so
    /// a figure can be a call or two ahead of another; the next reading catches up.
    var tally: MethodTally {
        var tally = MethodTally()
        for transport in Layout.transports {
            for code in 0..<Layout.codes {
                let count = calls(transport, StatusCode(rawValue: UInt8(code)))
                tally.calls += count
                if code != StatusCode.ok.rawValue { tally.failures += count }
            }
        }
        tally.buckets = latency.buckets
        return tally
    }
}
