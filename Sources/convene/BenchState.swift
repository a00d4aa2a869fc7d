import ConveneRPC
import Histogram

/// Counters shared by the workers.
final class BenchState: Sendable {
    private struct State {
        var slot: Int64 = 0
        var measured = 0
        var done = 0
        var errors: [String: Int] = [:]
        var recent = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .two)
    }

    private let state = Locked(State())
    let plannedRequests: Int?

    init(plannedRequests: Int?) { self.plannedRequests = plannedRequests }

    func nextSlot() -> Int64 { state.withLock { s in defer { s.slot += 1 }; return s.slot } }

    /// False once --requests measured calls have been started.
    func claimMeasured() -> Bool {
        state.withLock { s in
            if let planned = plannedRequests, s.measured >= planned { return false }
            s.measured += 1
            return true
        }
    }

    /// Every planned measured operation has been started (--requests).
    var isFinished: Bool {
        state.withLock { s in plannedRequests.map { s.measured >= $0 } ?? false }
    }

    func completed(_ micros: UInt64) { state.withLock { s in s.done += 1; _ = s.recent.record(min(micros, 60_000_000)) } }
    func failed(_ code: StatusCode) { state.withLock { $0.errors[code.name, default: 0] += 1 } }
    var errorsByCode: [String: Int] { state.withLock { $0.errors } }

    func snapshot() -> (Int, Int, UInt64) {
        state.withLock { s in (s.done, s.errors.values.reduce(0, +), s.recent.valueAtPercentile(99)) }
    }
}
