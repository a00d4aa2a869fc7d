/// The keys a plugin call wrote, sorted, for its listings (`storage_next`): made at its first
/// listing and kept up to date by its later writes, so that a step of a listing costs a binary
/// search. (Sorting the call's writes at every step let a plugin that wrote 100,000 keys spend
/// the server's CPU, not its own, on each of its 20,000 steps.) One index serves every prefix:
/// the keys under a prefix are a contiguous run of the sorted keys.
struct OwnKeyIndex {
    /// Keys written with a value, in order.
    private(set) var live: [[UInt8]]
    /// Keys deleted by the call (they hide the committed ones).
    private(set) var deleted: Set<[UInt8]>

    init(writes: [[UInt8]: [UInt8]?]) {
        var live: [[UInt8]] = [], deleted = Set<[UInt8]>()
        for (key, value) in writes {
            if value == nil { deleted.insert(key) } else { live.append(key) }
        }
        self.live = live.sorted { $0.lexicographicallyPrecedes($1) }
        self.deleted = deleted
    }

    /// The call wrote `key` (`isLive`: with a value; else deleted it).
    mutating func noteWrite(_ key: [UInt8], isLive: Bool) {
        let place = position(of: key, inclusive: true)
        let present = place < live.count && live[place] == key
        switch (present, isLive) {
        case (false, true):
            live.insert(key, at: place)
            deleted.remove(key)
        case (true, false):
            live.remove(at: place)
            deleted.insert(key)
        case (false, false):
            deleted.insert(key)
        case (true, true):
            break
        }
    }

    /// The first live key under `prefix` after `cursor` (the first under it for nil, or for a
    /// cursor that sorts before the prefix).
    func successor(under prefix: [UInt8], after cursor: [UInt8]?) -> [UInt8]? {
        let place = if let cursor, !cursor.lexicographicallyPrecedes(prefix) {
            position(of: cursor, inclusive: false)
        } else {
            position(of: prefix, inclusive: true)
        }
        guard place < live.count, live[place].starts(with: prefix) else { return nil }
        return live[place]
    }

    func isDeleted(_ key: [UInt8]) -> Bool { deleted.contains(key) }

    /// The index of the first key after `key` (or equal to it, `inclusive`).
    private func position(of key: [UInt8], inclusive: Bool) -> Int {
        var low = 0, high = live.count
        while low < high {
            let middle = (low + high) / 2
            let beyond = inclusive ? !live[middle].lexicographicallyPrecedes(key) : key.lexicographicallyPrecedes(live[middle])
            if beyond { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
