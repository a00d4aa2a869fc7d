/// The actions a state machine asks its channel handler to perform, in order.
///
/// A handler pops them one at a time, so an action that feeds the machine again (running
/// a synchronous handler, say) may add more while the queue is being worked through. The
/// storage is kept between batches: no allocation per call once a connection is warm.
/// An action is moved out as it is popped (its slot left empty), so its payload (a
/// handler's closure, metadata, a request's bytes) is not retained for a copy and
/// released again when the batch is cleared.
struct ActionQueue<Action> {
    private var items: [Action?] = []
    private var next = 0

    var isEmpty: Bool { next == items.count }

    mutating func append(_ action: consuming Action) {
        items.append(consume action)
    }

    mutating func pop() -> Action? {
        guard next < items.count else {
            if !items.isEmpty {
                items.removeAll(keepingCapacity: true)
                next = 0
            }
            return nil
        }
        defer { next += 1 }
        return items[next].take()
    }
}
