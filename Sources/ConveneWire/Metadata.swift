/// Ordered key-value pairs sent with a call (headers) or its end (trailers).
///
/// Keys are 1 to 255 bytes of lowercase ASCII letters, digits, `-`, `_` and `.`. A key
/// ending in `-bin` carries arbitrary bytes; any other key carries printable ASCII
/// (0x20 to 0x7E). Keys may repeat.
public struct Metadata: Sendable, Hashable, Sequence {
    public enum Value: Sendable, Hashable, CustomStringConvertible {
        case string(String)
        case binary([UInt8])

        public var description: String {
            switch self {
            case .string(let s): s
            case .binary(let b): b.map { String($0, radix: 16) }.joined()
            }
        }
    }

    public struct Entry: Sendable, Hashable {
        public var key: String
        public var value: Value
    }

    public private(set) var entries: [Entry]

    public init() { entries = [] }

    /// Metadata of string values, in order.
    public init(_ pairs: KeyValuePairs<String, String>) {
        entries = pairs.map { Entry(key: $0.key, value: .string($0.value)) }
    }

    public var isEmpty: Bool { entries.isEmpty }
    public var count: Int { entries.count }

    public mutating func add(_ key: String, _ value: String) {
        entries.append(Entry(key: key, value: .string(value)))
    }

    public mutating func add(_ key: String, binary value: [UInt8]) {
        entries.append(Entry(key: key, value: .binary(value)))
    }

    public mutating func add(_ key: String, value: Value) {
        entries.append(Entry(key: key, value: value))
    }

    public mutating func removeAll(_ key: String) {
        entries.removeAll { $0.key == key }
    }

    /// The first string value for `key`.
    public subscript(key: String) -> String? {
        for entry in entries where entry.key == key {
            if case .string(let s) = entry.value { return s }
        }
        return nil
    }

    /// The first binary value for `key` (which should end in `-bin`).
    public func binary(_ key: String) -> [UInt8]? {
        for entry in entries where entry.key == key {
            if case .binary(let b) = entry.value { return b }
        }
        return nil
    }

    public func makeIterator() -> IndexingIterator<[Entry]> { entries.makeIterator() }

    /// Why a key or value may not be sent, or nil when it may. Runs for every entry of every
    /// call: the bytes are checked over the strings' contiguous storage, not through iterators.
    public static func validate(key: String, value: Value) -> String? {
        let bytes = key.utf8
        guard !bytes.isEmpty, bytes.count <= 255 else {
            return "metadata key must be 1 to 255 bytes, got \(bytes.count)"
        }
        guard allBytes(of: key, satisfy: isKeyByte) else {
            return "metadata key '\(key)' may hold only lowercase a-z, 0-9, '-', '_' and '.'"
        }
        let isBinaryKey = bytes.count >= 4 && bytes.suffix(4).elementsEqual("-bin".utf8)
        switch value {
        case .binary:
            if !isBinaryKey { return "metadata key '\(key)' carries bytes but does not end in '-bin'" }
        case .string(let s):
            if isBinaryKey { return "metadata key '\(key)' ends in '-bin' but carries a string" }
            if s.utf8.count > 65535 { return "metadata value of '\(key)' is over 65535 bytes" }
            guard allBytes(of: s, satisfy: { $0 >= 0x20 && $0 <= 0x7E }) else {
                return "metadata value of '\(key)' must be printable ASCII (0x20-0x7E)"
            }
        }
        return nil
    }

    @inline(__always)
    static func isKeyByte(_ b: UInt8) -> Bool {
        (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x2D || b == 0x5F || b == 0x2E
    }

    @inline(__always)
    static func allBytes(of string: String, satisfy rule: (UInt8) -> Bool) -> Bool {
        string.utf8.withContiguousStorageIfAvailable { $0.allSatisfy(rule) } ?? string.utf8.allSatisfy(rule)
    }
}
