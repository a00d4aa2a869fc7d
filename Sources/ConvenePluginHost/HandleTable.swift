import ConveneRPC

/// The handles the host gives plugins (`convene_call*`, `convene_host*`): an index into a
/// table and a random tag, packed into the pointer. A handle whose object is gone (a call
/// whose hook returned, a plugin unloaded) or that was never issued resolves to nil, so a
/// plugin that keeps one and uses it later gets an error, never a dangling object. The tag is
/// drawn afresh for every handle, so that a plugin cannot guess another's live handle from
/// its own (consecutive generations could be counted on: one plugin then wrote another's
/// storage and called services as the other's caller).
final class HandleTable<Object>: @unchecked Sendable {
    private struct Slot {
        var tag: UInt32 = 0
        var object: Object?
        var owner = ""
        /// The tag of the handle the slot held last, and who held it, to name a plugin that
        /// uses a stale handle (the slot's `owner` is its next holder's once it is reused).
        var retiredTag: UInt32 = 0
        var retiredOwner = ""
    }

    private struct Table {
        var slots: [Slot] = []
        var free: [Int] = []
        /// Handles issued, whose keyed hash is the next tag.
        var issued: UInt64 = 0
    }

    private let table = Locked(Table())

    /// A new handle for `object`, held by `owner` (a plugin's name).
    func insert(_ object: Object, owner: String) -> OpaquePointer {
        table.withLock { table in
            let tag = Self.tag(table.issued)
            table.issued &+= 1
            let index: Int
            if let reused = table.free.popLast() {
                index = reused
            } else {
                table.slots.append(Slot())
                index = table.slots.count - 1
            }
            table.slots[index].tag = tag
            table.slots[index].object = object
            table.slots[index].owner = owner
            return Self.pack(index: index, tag: tag)
        }
    }

    enum Resolution {
        case live(Object)
        /// Issued once, now gone; the owner it had.
        case stale(owner: String)
        /// Never issued by this table (or NULL), or issued long ago.
        case unknown
    }

    func resolve(_ handle: OpaquePointer?) -> Resolution {
        guard let (index, tag) = Self.unpack(handle) else { return .unknown }
        return table.withLock { table in
            guard index < table.slots.count else { return .unknown }
            let slot = table.slots[index]
            if slot.tag == tag, let object = slot.object { return .live(object) }
            return tag == slot.retiredTag ? .stale(owner: slot.retiredOwner) : .unknown
        }
    }

    func object(_ handle: OpaquePointer?) -> Object? {
        if case .live(let object) = resolve(handle) { return object }
        return nil
    }

    /// Ends a handle: from now on it resolves as stale.
    func remove(_ handle: OpaquePointer) {
        guard let (index, tag) = Self.unpack(handle) else { return }
        table.withLock { table in
            guard index < table.slots.count, table.slots[index].tag == tag, table.slots[index].object != nil else { return }
            table.slots[index].object = nil
            table.slots[index].retiredTag = tag
            table.slots[index].retiredOwner = table.slots[index].owner
            table.slots[index].tag = 0
            table.free.append(index)
        }
    }

    var count: Int { table.withLock { $0.slots.count - $0.free.count } }

    /// The tag of the `number`th handle: its keyed hash (SipHash, keyed with the process's
    /// random seed), which no plugin can compute or foresee from the tags it saw; a system
    /// call for random bytes per call cost a plugin call more than the hash. Never 0, so that
    /// a handle is never the NULL pointer.
    private static func tag(_ number: UInt64) -> UInt32 {
        var hasher = Hasher()
        hasher.combine(number)
        let tag = UInt32(truncatingIfNeeded: hasher.finalize())
        return tag == 0 ? 1 : tag
    }

    private static func pack(index: Int, tag: UInt32) -> OpaquePointer {
        OpaquePointer(bitPattern: UInt(UInt64(index + 1) << 32 | UInt64(tag)))!
    }

    private static func unpack(_ handle: OpaquePointer?) -> (index: Int, tag: UInt32)? {
        guard let handle else { return nil }
        let raw = UInt64(UInt(bitPattern: handle))
        let index = Int(raw >> 32) - 1
        let tag = UInt32(truncatingIfNeeded: raw)
        guard index >= 0, tag != 0 else { return nil }
        return (index, tag)
    }
}
