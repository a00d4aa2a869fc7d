/// The keys a plugin call wrote, sorted, for its listings (`storage_next`): made at its first
/// listing and kept up to date by its later writes, so that neither a step of a listing nor a
/// write costs more than a search and a short move. (Sorting the call's writes at every step
/// let a plugin that wrote 100,000 keys spend the server's CPU, not its own, on each of its
/// 20,000 steps; one sorted array made each later write a move of every key after it.) The
/// live keys are kept in blocks of at most `blockSize`, each sorted, in order. One index
/// serves every prefix: the keys under a prefix are a contiguous run of the sorted keys.
struct OwnKeyIndex {
    /// Keys written with a value, in order: no block is empty.
    private var blocks: [[[UInt8]]] = []
    /// Keys deleted by the call (they hide the committed ones).
    private var deleted = Set<[UInt8]>()
    private let blockSize: Int

    init(writes: [[UInt8]: [UInt8]?], blockSize: Int = 512) {
        self.blockSize = max(2, blockSize)
        var live: [[UInt8]] = []
        for (key, value) in writes {
            if value == nil { deleted.insert(key) } else { live.append(key) }
        }
        live.sort { $0.lexicographicallyPrecedes($1) }
        let half = self.blockSize / 2
        blocks = stride(from: 0, to: live.count, by: half).map { Array(live[$0..<min($0 + half, live.count)]) }
    }

    /// The call wrote `key` (`isLive`: with a value; else deleted it).
    mutating func noteWrite(_ key: [UInt8], isLive: Bool) {
        if isLive {
            deleted.remove(key)
            insert(key)
        } else {
            remove(key)
            deleted.insert(key)
        }
    }

    /// The first live key under `prefix` after `cursor` (the first under it for nil, or for a
    /// cursor that sorts before the prefix).
    func successor(under prefix: [UInt8], after cursor: [UInt8]?) -> [UInt8]? {
        let (bound, inclusive) = if let cursor, !cursor.lexicographicallyPrecedes(prefix) { (cursor, false) } else { (prefix, true) }
        let block = Self.firstIndex(in: blocks) { Self.beyond($0.last!, bound, inclusive) }
        guard block < blocks.count else { return nil }
        let keys = blocks[block]
        let key = keys[Self.firstIndex(in: keys) { Self.beyond($0, bound, inclusive) }]
        return key.starts(with: prefix) ? key : nil
    }

    func isDeleted(_ key: [UInt8]) -> Bool { deleted.contains(key) }

    private mutating func insert(_ key: [UInt8]) {
        guard !blocks.isEmpty else { return blocks = [[key]] }
        // The first block whose last key is not before `key`, or the last block.
        let block = min(Self.firstIndex(in: blocks) { !$0.last!.lexicographicallyPrecedes(key) }, blocks.count - 1)
        let place = Self.firstIndex(in: blocks[block]) { !$0.lexicographicallyPrecedes(key) }
        if place < blocks[block].count, blocks[block][place] == key { return }
        blocks[block].insert(key, at: place)
        if blocks[block].count > blockSize {
            let upper = Array(blocks[block][(blockSize / 2)...])
            blocks[block].removeSubrange((blockSize / 2)...)
            blocks.insert(upper, at: block + 1)
        }
    }

    private mutating func remove(_ key: [UInt8]) {
        let block = Self.firstIndex(in: blocks) { !$0.last!.lexicographicallyPrecedes(key) }
        guard block < blocks.count else { return }
        let place = Self.firstIndex(in: blocks[block]) { !$0.lexicographicallyPrecedes(key) }
        guard place < blocks[block].count, blocks[block][place] == key else { return }
        blocks[block].remove(at: place)
        if blocks[block].isEmpty { blocks.remove(at: block) }
    }

    /// Whether `key` is after `bound` (or equal to it, `inclusive`).
    private static func beyond(_ key: [UInt8], _ bound: [UInt8], _ inclusive: Bool) -> Bool {
        inclusive ? !key.lexicographicallyPrecedes(bound) : bound.lexicographicallyPrecedes(key)
    }

    /// The index of the first element for which `isBeyond` holds (`isBeyond` is false, then
    /// true, along the collection), or its count.
    private static func firstIndex<T>(in elements: [T], where isBeyond: (T) -> Bool) -> Int {
        var low = 0, high = elements.count
        while low < high {
            let middle = (low + high) / 2
            if isBeyond(elements[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
