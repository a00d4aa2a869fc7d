import NIOConcurrencyHelpers

/// Wakes live watchers when operation events are committed. Events are written to the store in
/// the same transaction as the change they describe (`write(publishingTo:)`); the store's event
/// log is the source of truth, and the bus only tells watchers that there is more to read:
/// after a commit of this server (`publish`, which also hands the events to observers), or of
/// another server sharing the database (`wake`, from the store's notifications).
public final class EventBus: Sendable {
    private struct State {
        var observers: [@Sendable ([EventRecord]) -> Void] = []
        var watchers: [Int: (operationID: Int64, continuation: AsyncStream<Int64>.Continuation)] = [:]
        var next = 0
    }

    // NIO's lock (a pthread mutex), which ThreadSanitizer follows (see ConveneRPC's Locked).
    private let state = NIOLockedValueBox(State())

    /// What a watcher is handed when it must read again from where it is, whatever it has been
    /// told (notifications from other servers may have been missed).
    public static let readAgain = Int64.max

    public init() {}

    /// Calls `body` with every batch of events this server commits (e.g. to hand them to plugins).
    public func observe(_ body: @escaping @Sendable ([EventRecord]) -> Void) {
        state.withLockedValue { $0.observers.append(body) }
    }

    /// Events this server has just committed: to the observers, and a wake-up to their watchers.
    public func publish(_ events: [EventRecord]) {
        guard !events.isEmpty else { return }
        let observers = state.withLockedValue { $0.observers }
        for observer in observers { observer(events) }
        for event in events {
            if let sequence = event.sequence { wake(operationID: event.operationID, sequence: sequence) }
        }
    }

    /// An event committed (by any server) with this sequence number: its operation's watchers wake.
    public func wake(operationID: Int64, sequence: Int64) {
        let targets = state.withLockedValue { state in
            state.watchers.values.filter { $0.operationID == operationID }.map(\.continuation)
        }
        for continuation in targets {
            // A signal pushed out of a full buffer is replaced by one that covers it.
            if case .dropped = continuation.yield(sequence) { continuation.yield(Self.readAgain) }
        }
    }

    /// Every watcher reads again from where it is (after a gap in what the store could tell).
    public func wakeAll() {
        let targets = state.withLockedValue { state in state.watchers.values.map(\.continuation) }
        for continuation in targets { continuation.yield(Self.readAgain) }
    }

    /// The sequence numbers of an operation's events as they are committed (or `readAgain`),
    /// until the returned stream's consumer stops. Each is a signal to read the store after what
    /// the watcher last read, not the event itself; a slow consumer is sent the newest few, and
    /// `readAgain` when older ones had to go.
    public func subscribe(operationID: Int64) -> AsyncStream<Int64> {
        let (stream, continuation) = AsyncStream<Int64>.makeStream(bufferingPolicy: .bufferingNewest(64))
        let id = state.withLockedValue { state in
            let id = state.next
            state.next += 1
            state.watchers[id] = (operationID, continuation)
            return id
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLockedValue { $0.watchers.removeValue(forKey: id) }
        }
        return stream
    }
}

extension ConveneStore {
    /// Runs `body` in one transaction; the events it records are committed with it and only
    /// then handed to live watchers, so a watcher never sees an event the store could still
    /// lose. Every service's writes go through here.
    public func write<T: Sendable>(publishingTo events: EventBus,
                                   _ body: @escaping @Sendable (any StoreWriter, inout [EventRecord]) throws -> T) async throws -> T {
        let (result, recorded) = try await write { db in
            var pending: [EventRecord] = []
            let result = try body(db, &pending)
            let recorded = try pending.map { try db.append($0) }
            return (result, recorded)
        }
        events.publish(recorded)
        return result
    }
}
