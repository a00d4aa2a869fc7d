import ConveneStore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import PostgresNIO

/// Hears what every server commits, on a connection of its own (LISTEN "convene"): an event
/// wakes the watchers of its operation, a revocation ends the streams open with the credential.
/// Notifications only wake; the event log stays the source of truth, so a notification lost
/// while the connection was down costs nothing: on every (re)connection, once listening, every
/// watcher reads the store again from where it is.
final class PostgresListener: Sendable {
    let configuration: PostgresConfiguration
    let logger: Logger
    let signals: StoreSignals
    private let listening = NIOLockedValueBox<ListeningState>(.waiting([]))

    private enum ListeningState {
        case waiting([CheckedContinuation<Void, any Error>])
        case listening
    }

    init(configuration: PostgresConfiguration, logger: Logger, signals: StoreSignals) {
        self.configuration = configuration
        self.logger = logger
        self.signals = signals
    }

    /// Listens until cancelled, reconnecting after a failure (backing off up to 5 s).
    func run() async {
        var delay = Duration.milliseconds(100)
        while !Task.isCancelled {
            do {
                let connection = try await PostgresConnection.connect(configuration: try configuration.connectionConfiguration(purpose: "listener"),
                                                                      id: 0, logger: logger)
                defer { Task { try? await connection.close() } }
                try await connection.listen(on: PostgresSchema.channel) { notifications in
                    delay = .milliseconds(100)
                    markListening()
                    signals.events.wakeAll()
                    for try await notification in notifications { handle(notification.payload) }
                }
            } catch {
                if Task.isCancelled { break }
                logger.warning("not hearing other servers' commits; reconnecting",
                               metadata: ["error": "\(error)", "retry-in": "\(delay)"])
            }
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(5))
        }
        failWaiters(CancellationError())
    }

    /// Returns once the first LISTEN is in place (so that a server that says it is started hears
    /// every commit after that), or throws when the listener stops first.
    func waitUntilListening() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let ready = listening.withLockedValue { state -> Bool in
                switch state {
                case .listening: return true
                case .waiting(var waiters):
                    waiters.append(continuation)
                    state = .waiting(waiters)
                    return false
                }
            }
            if ready { continuation.resume() }
        }
    }

    private func markListening() {
        let waiters = listening.withLockedValue { state -> [CheckedContinuation<Void, any Error>] in
            defer { state = .listening }
            if case .waiting(let waiters) = state { return waiters }
            return []
        }
        for waiter in waiters { waiter.resume() }
    }

    private func failWaiters(_ error: any Error) {
        let waiters = listening.withLockedValue { state -> [CheckedContinuation<Void, any Error>] in
            if case .waiting(let waiters) = state { state = .waiting([]); return waiters }
            return []
        }
        for waiter in waiters { waiter.resume(throwing: error) }
    }

    /// "event OPERATION SEQUENCE" or "revoked CREDENTIAL"; anything else is logged and ignored.
    func handle(_ payload: String) {
        let words = payload.split(separator: " ")
        switch (words.first, words.count) {
        case ("event", 3):
            if let operation = Int64(words[1]), let sequence = Int64(words[2]) {
                signals.events.wake(operationID: operation, sequence: sequence)
                signals.eventsCommitted()
                return
            }
        case ("revoked", 2):
            if let credential = Int64(words[1]) {
                signals.revoked(credential)
                return
            }
        default: break
        }
        logger.warning("ignored a notification it does not understand", metadata: ["payload": "\(payload)"])
    }
}
