import NIOConcurrencyHelpers

/// Hands committed operation events to live watchers. Events are written to the store in
/// the same transaction as the change they describe (`write(publishingTo:)`); the bus only
/// wakes watchers up, after the commit.
public final class EventBus: Sendable {
    private struct State {
        var observers: [@Sendable ([EventRecord]) -> Void] = []
        var watchers: [Int: (operationID: Int64, continuation: AsyncStream<EventRecord>.Continuation)] = [:]
        var next = 0
    }

    // NIO's lock (a pthread mutex), which ThreadSanitizer follows (see ConveneRPC's Locked).
    private let state = NIOLockedValueBox(State())

    public init() {}

    /// Calls `body` with every batch of committed events (e.g. to hand them to plugins).
    public func observe(_ body: @escaping @Sendable ([EventRecord]) -> Void) {
        state.withLockedValue { $0.observers.append(body) }
    }

    public func publish(_ events: [EventRecord]) {
        guard !events.isEmpty else { return }
        let (targets, observers) = state.withLockedValue { state in
            (state.watchers.values.map { ($0.operationID, $0.continuation) }, state.observers)
        }
        for observer in observers { observer(events) }
        for event in events {
            for (operationID, continuation) in targets where operationID == event.operationID {
                continuation.yield(event)
            }
        }
    }

    /// Live events of one operation, until the returned stream's consumer stops.
    public func subscribe(operationID: Int64) -> AsyncStream<EventRecord> {
        let (stream, continuation) = AsyncStream<EventRecord>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
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
