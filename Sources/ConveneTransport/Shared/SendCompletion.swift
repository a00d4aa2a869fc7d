/// Whoever waits for a message to go out: a task suspended in `send`, resumed once the
/// message is written (or with the error that stops it).
///
/// A class around the task's continuation, so that every value of a connection that may
/// hold one (its actions, a stream's queued messages) has a layout the compiler knows.
/// `CheckedContinuation` comes from a module built for library evolution: an enum or
/// struct holding it directly is copied, destroyed and switched over through runtime
/// calls, on every call's hot path, even when it holds none.
final class SendCompletion: Sendable {
    private let continuation: CheckedContinuation<Void, any Error>

    init(_ continuation: CheckedContinuation<Void, any Error>) {
        self.continuation = continuation
    }

    func resume() {
        continuation.resume()
    }

    func resume(throwing error: any Error) {
        continuation.resume(throwing: error)
    }
}

/// Suspends until the `SendCompletion` handed to `body` is resumed.
func waitForSend(_ body: (SendCompletion) -> Void) async throws {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
        body(SendCompletion(continuation))
    }
}
