import ConveneRPC

/// The handles the host gives plugins (`convene_call*`, `convene_host*`): an index into a
/// table and a generation, packed into the pointer. A handle whose object is gone (a call
/// whose hook returned, a plugin unloaded) or that was never issued resolves to nil, so a
/// plugin that keeps one and uses it later gets an error, never a dangling object.
final class HandleTable<Object>: @unchecked Sendable {
    private struct Slot {
        var generation: UInt32 = 1
        var object: Object?
        /// Who held the slot last, to name a plugin that uses a stale handle.
        var owner = ""
    }

    private struct Table {
        var slots: [Slot] = []
        var free: [Int] = []
    }

    private let table = Locked(Table())

    /// A new handle for `object`, held by `owner` (a plugin's name).
    func insert(_ object: Object, owner: String) -> OpaquePointer {
        table.withLock { table in
            let index: Int
            if let reused = table.free.popLast() {
                index = reused
            } else {
                table.slots.append(Slot())
                index = table.slots.count - 1
            }
            table.slots[index].object = object
            table.slots[index].owner = owner
            return Self.pack(index: index, generation: table.slots[index].generation)
        }
    }

    enum Resolution {
        case live(Object)
        /// Issued once, now gone; the owner it had.
        case stale(owner: String)
        /// Never issued by this table (or NULL).
        case unknown
    }

    func resolve(_ handle: OpaquePointer?) -> Resolution {
        guard let (index, generation) = Self.unpack(handle) else { return .unknown }
        return table.withLock { table in
            guard index < table.slots.count else { return .unknown }
            let slot = table.slots[index]
            guard slot.generation == generation, let object = slot.object else {
                return generation < slot.generation ? .stale(owner: slot.owner) : .unknown
            }
            return .live(object)
        }
    }

    func object(_ handle: OpaquePointer?) -> Object? {
        if case .live(let object) = resolve(handle) { return object }
        return nil
    }

    /// Ends a handle: from now on it resolves as stale.
    func remove(_ handle: OpaquePointer) {
        guard let (index, generation) = Self.unpack(handle) else { return }
        table.withLock { table in
            guard index < table.slots.count, table.slots[index].generation == generation else { return }
            table.slots[index].object = nil
            // Generations skip 0 when they wrap, so a handle is never the NULL pointer.
            table.slots[index].generation = generation == .max ? 1 : generation + 1
            table.free.append(index)
        }
    }

    var count: Int { table.withLock { $0.slots.count - $0.free.count } }

    private static func pack(index: Int, generation: UInt32) -> OpaquePointer {
        OpaquePointer(bitPattern: UInt(UInt64(index + 1) << 32 | UInt64(generation)))!
    }

    private static func unpack(_ handle: OpaquePointer?) -> (index: Int, generation: UInt32)? {
        guard let handle else { return nil }
        let raw = UInt64(UInt(bitPattern: handle))
        let index = Int(raw >> 32) - 1
        let generation = UInt32(truncatingIfNeeded: raw)
        guard index >= 0, generation != 0 else { return nil }
        return (index, generation)
    }
}
