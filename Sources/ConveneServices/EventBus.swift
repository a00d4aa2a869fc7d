import ConveneRPC
import ConveneStore
import SwiftProtobuf

/// Hands committed operation events to live watchers. Events are written to the store in
/// the same transaction as the change they describe; the bus only wakes watchers up.
public final class EventBus: Sendable {
    private struct State {
        var observers: [@Sendable ([EventRecord]) -> Void] = []
        var watchers: [Int: (operationID: Int64, continuation: AsyncStream<EventRecord>.Continuation)] = [:]
        var next = 0
    }

    private let state = Locked(State())

    public init() {}

    /// Calls `body` with every batch of committed events (e.g. to hand them to plugins).
    public func observe(_ body: @escaping @Sendable ([EventRecord]) -> Void) {
        state.withLock { $0.observers.append(body) }
    }

    public func publish(_ events: [EventRecord]) {
        guard !events.isEmpty else { return }
        let (targets, observers) = state.withLock { state in
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
    func subscribe(operationID: Int64) -> AsyncStream<EventRecord> {
        let (stream, continuation) = AsyncStream<EventRecord>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        let id = state.withLock { state in
            let id = state.next
            state.next += 1
            state.watchers[id] = (operationID, continuation)
            return id
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.watchers.removeValue(forKey: id) }
        }
        return stream
    }
}
