import ConveneRPC
import ConveneServices

/// A clock that moves only when the test moves it (`advance(by:)`). It is the services'
/// time of day (`WallClock`, set as `ServerConfiguration.clock`), and a Swift `Clock` whose
/// sleepers wake as soon as it passes their deadline, so a rule about time is tested
/// without waiting for it.
public final class ManualClock: Clock, WallClock, Sendable {
    public struct Instant: InstantProtocol, CustomStringConvertible {
        /// Time since the clock started.
        public var offset: Duration

        public func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        public func duration(to other: Instant) -> Duration { other.offset - offset }
        public static func < (a: Instant, b: Instant) -> Bool { a.offset < b.offset }
        public var description: String { "\(offset)" }
    }

    private struct Sleeper {
        let deadline: Instant
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now = Instant(offset: .zero)
        var sleepers: [Int: Sleeper] = [:]
        var next = 0
    }

    private let state = Locked(State())
    /// The time of day when the clock started, in milliseconds since 1970.
    public let startMillis: Int64

    /// - Parameter startMillis: the time of day it starts at (default: 15 January 2027, 08:00 UTC).
    public init(startMillis: Int64 = 1_800_000_000_000) {
        self.startMillis = startMillis
    }

    public var now: Instant { state.withLock { $0.now } }
    public var minimumResolution: Duration { .zero }

    public func nowMillis() -> Int64 {
        let (seconds, attoseconds) = now.offset.components
        return startMillis + seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// Moves the clock forward and wakes every sleeper whose deadline it reached.
    public func advance(by duration: Duration) {
        precondition(duration >= .zero, "a manual clock only moves forward")
        let due = state.withLock { state -> [CheckedContinuation<Void, any Error>] in
            state.now = state.now.advanced(by: duration)
            let now = state.now
            let due = state.sleepers.filter { $0.value.deadline <= now }
            for id in due.keys { state.sleepers[id] = nil }
            return due.sorted { $0.value.deadline < $1.value.deadline }.map(\.value.continuation)
        }
        for continuation in due { continuation.resume() }
    }

    /// How many tasks are sleeping on the clock (to wait until a task under test is waiting).
    public var sleepers: Int { state.withLock { $0.sleepers.count } }

    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        let id = state.withLock { state -> Int in
            defer { state.next += 1 }
            return state.next
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let wake: Result<Void, any Error>? = state.withLock { state in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if deadline <= state.now { return .success(()) }
                    state.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                    return nil
                }
                if let wake { continuation.resume(with: wake) }
            }
        } onCancel: {
            let sleeper = state.withLock { $0.sleepers.removeValue(forKey: id) }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }
}
