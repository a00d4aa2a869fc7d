/// Flags (II.B.5(b): a report distributed late, meetings out of order) are shown to each reader
/// only when they name no meeting the reader may not see: a flag quoting the Council members'
/// own consultations would tell a troop contributor that they exist, and when.
public enum FlagRules {
    /// The meeting ids ("mtg-" and digits) a flag names, as numbers.
    public static func meetingsNamed(in flag: String) -> [Int64] {
        let bytes = Array(flag.utf8), prefix = Array("mtg-".utf8)
        var found: [Int64] = []
        var index = 0
        while index + prefix.count <= bytes.count {
            guard bytes[index..<index + prefix.count].elementsEqual(prefix) else {
                index += 1
                continue
            }
            var end = index + prefix.count
            while end < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[end]) { end += 1 }
            if let id = Int64(String(decoding: bytes[(index + prefix.count)..<end], as: UTF8.self)) { found.append(id) }
            index = end
        }
        return found
    }

    /// The flags whose every named meeting `maySee` admits, in order.
    public static func visible(_ flags: [String], maySee: (Int64) throws -> Bool) rethrows -> [String] {
        try flags.filter { flag in try meetingsNamed(in: flag).allSatisfy(maySee) }
    }
}
