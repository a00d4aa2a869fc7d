import Foundation
import PostgresNIO

/// One column's value as the PostgreSQL store writes it.
enum ColumnValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case text(String)
    case boolean(Bool)
    case bytes([UInt8])

    func append(to bindings: inout PostgresBindings) {
        switch self {
        case .null: bindings.appendNull()
        case .integer(let value): bindings.append(value)
        case .text(let value): bindings.append(value)
        case .boolean(let value): bindings.append(value)
        case .bytes(let value): bindings.append(ByteBuffer(bytes: value))
        }
    }
}

/// A value that asked for a keyed or unkeyed container: it is stored as JSON text, as GRDB
/// stores nested values in SQLite.
private struct NotAColumn: Error {}

// MARK: - Records to columns

/// A record's stored properties as columns, in declaration order: integers, text and booleans as
/// themselves, enums as their raw values, nested values (arrays, structs) as JSON text, and nil
/// as NULL (so an update clears what became nil).
enum RowEncoder {
    static func columns<Record: Encodable>(of record: Record) throws -> [(name: String, value: ColumnValue)] {
        let storage = ColumnStorage()
        try record.encode(to: KeyedColumnEncoder(storage: storage))
        return storage.columns
    }

    /// One value as a column: a scalar as itself, anything with structure as JSON.
    static func column<Value: Encodable>(_ value: Value) throws -> ColumnValue {
        let probe = ScalarEncoder()
        do {
            try value.encode(to: probe)
            if !probe.structured { return probe.value ?? .null }
        } catch is NotAColumn {}
        return .text(String(decoding: try JSONEncoder().encode(value), as: UTF8.self))
    }
}

private final class ColumnStorage {
    var columns: [(name: String, value: ColumnValue)] = []
}

private struct KeyedColumnEncoder: Encoder {
    let storage: ColumnStorage
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(Container(storage: storage))
    }
    func unkeyedContainer() -> any UnkeyedEncodingContainer { fatalError("a record is keyed") }
    func singleValueContainer() -> any SingleValueEncodingContainer { fatalError("a record is keyed") }

    struct Container<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let storage: ColumnStorage
        var codingPath: [any CodingKey] { [] }

        private func put(_ value: ColumnValue, _ key: Key) { storage.columns.append((key.stringValue, value)) }

        mutating func encodeNil(forKey key: Key) throws { put(.null, key) }
        mutating func encode(_ value: Bool, forKey key: Key) throws { put(.boolean(value), key) }
        mutating func encode(_ value: String, forKey key: Key) throws { put(.text(value), key) }
        mutating func encode(_ value: Int, forKey key: Key) throws { put(.integer(Int64(value)), key) }
        mutating func encode(_ value: Int64, forKey key: Key) throws { put(.integer(value), key) }
        mutating func encode(_ value: Int32, forKey key: Key) throws { put(.integer(Int64(value)), key) }
        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { put(try RowEncoder.column(value), key) }
        // Optionals: nil is a column too (the defaults would leave it out).
        mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws { put(value.map(ColumnValue.boolean) ?? .null, key) }
        mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws { put(value.map(ColumnValue.text) ?? .null, key) }
        mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws {
            put(value.map { .integer(Int64($0)) } ?? .null, key)
        }
        mutating func encodeIfPresent(_ value: Int64?, forKey key: Key) throws { put(value.map(ColumnValue.integer) ?? .null, key) }
        mutating func encodeIfPresent<T: Encodable>(_ value: T?, forKey key: Key) throws {
            put(try value.map { try RowEncoder.column($0) } ?? .null, key)
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type,
                                                            forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
            fatalError("records nest through encode(_:forKey:)")
        }
        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            fatalError("records nest through encode(_:forKey:)")
        }
        mutating func superEncoder() -> any Encoder { fatalError("records have no superclass") }
        mutating func superEncoder(forKey key: Key) -> any Encoder { fatalError("records have no superclass") }
    }
}

/// Takes one scalar (an enum's raw value, say); throws `NotAColumn` for anything with structure.
private final class ScalarEncoder: Encoder, SingleValueEncodingContainer {
    var value: ColumnValue?
    /// It asked for a keyed or unkeyed container (an empty array writes nothing into it).
    var structured = false
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        structured = true
        return KeyedEncodingContainer(RefusingKeyedContainer<Key>())
    }
    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        structured = true
        return RefusingUnkeyedContainer()
    }
    func singleValueContainer() -> any SingleValueEncodingContainer { self }

    func encodeNil() throws { value = .null }
    func encode(_ value: Bool) throws { self.value = .boolean(value) }
    func encode(_ value: String) throws { self.value = .text(value) }
    func encode(_ value: Int) throws { self.value = .integer(Int64(value)) }
    func encode(_ value: Int64) throws { self.value = .integer(value) }
    func encode(_ value: Int32) throws { self.value = .integer(Int64(value)) }
    func encode(_ value: Int16) throws { self.value = .integer(Int64(value)) }
    func encode(_ value: Int8) throws { self.value = .integer(Int64(value)) }
    func encode(_ value: UInt8) throws { self.value = .integer(Int64(value)) }
    func encode(_ value: UInt16) throws { self.value = .integer(Int64(value)) }
    func encode(_ value: UInt32) throws { self.value = .integer(Int64(value)) }
    func encode(_ value: UInt) throws { throw NotAColumn() }
    func encode(_ value: UInt64) throws { throw NotAColumn() }
    func encode(_ value: Double) throws { throw NotAColumn() }
    func encode(_ value: Float) throws { throw NotAColumn() }
    func encode<T: Encodable>(_ value: T) throws { try value.encode(to: self) }
}

/// The first key a structured value writes ends the probe: it becomes JSON.
private struct RefusingKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    var codingPath: [any CodingKey] { [] }
    mutating func encodeNil(forKey key: Key) throws { throw NotAColumn() }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { throw NotAColumn() }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type,
                                                        forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        KeyedEncodingContainer(RefusingKeyedContainer<NestedKey>())
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer { RefusingUnkeyedContainer() }
    mutating func superEncoder() -> any Encoder { ScalarEncoder() }
    mutating func superEncoder(forKey key: Key) -> any Encoder { ScalarEncoder() }
}

/// The first element a structured value writes ends the probe.
private struct RefusingUnkeyedContainer: UnkeyedEncodingContainer {
    var codingPath: [any CodingKey] { [] }
    var count: Int { 0 }
    init() {}
    mutating func encodeNil() throws { throw NotAColumn() }
    mutating func encode<T: Encodable>(_ value: T) throws { throw NotAColumn() }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        KeyedEncodingContainer(RefusingKeyedContainer<NestedKey>())
    }
    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer { RefusingUnkeyedContainer() }
    mutating func superEncoder() -> any Encoder { ScalarEncoder() }
}

// MARK: - Rows to records

/// A record from a row, by column name: the reverse of `RowEncoder`.
enum RowDecoder {
    static func record<Record: Decodable>(_ type: Record.Type, from row: PostgresRow) throws -> Record {
        try Record(from: KeyedRowDecoder(row: row.makeRandomAccess()))
    }
}

/// A column the row does not have, or a value of the wrong kind: the schema and the record disagree.
struct ColumnMismatch: Error, CustomStringConvertible {
    let column: String
    let detail: String
    var description: String { "column \(column): \(detail)" }
}

private struct KeyedRowDecoder: Decoder {
    let row: PostgresRandomAccessRow
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(Container(row: row))
    }
    func unkeyedContainer() throws -> any UnkeyedDecodingContainer { throw ColumnMismatch(column: "", detail: "a record is keyed") }
    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        throw ColumnMismatch(column: "", detail: "a record is keyed")
    }

    struct Container<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let row: PostgresRandomAccessRow
        var codingPath: [any CodingKey] { [] }
        var allKeys: [Key] { (0..<row.count).compactMap { Key(stringValue: row[$0].columnName) } }

        func contains(_ key: Key) -> Bool { row.contains(key.stringValue) }

        private func cell(_ key: Key) throws -> PostgresCell {
            guard row.contains(key.stringValue) else { throw ColumnMismatch(column: key.stringValue, detail: "not in the row") }
            return row[key.stringValue]
        }

        func decodeNil(forKey key: Key) throws -> Bool { try cell(key).bytes == nil }
        func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try cell(key).decode(Bool.self) }
        func decode(_ type: String.Type, forKey key: Key) throws -> String { try cell(key).decode(String.self) }
        func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try cell(key).decode(Int.self) }
        func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try cell(key).decode(Int64.self) }
        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try ColumnDecoding.value(T.self, from: try cell(key)) }

        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type,
                                                   forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
            throw ColumnMismatch(column: key.stringValue, detail: "records nest through decode(_:forKey:)")
        }
        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            throw ColumnMismatch(column: key.stringValue, detail: "records nest through decode(_:forKey:)")
        }
        func superDecoder() throws -> any Decoder { throw ColumnMismatch(column: "", detail: "records have no superclass") }
        func superDecoder(forKey key: Key) throws -> any Decoder {
            throw ColumnMismatch(column: key.stringValue, detail: "records have no superclass")
        }
    }
}

enum ColumnDecoding {
    /// A value from one cell: a scalar as itself, or, when it asks for structure, from the JSON text.
    static func value<T: Decodable>(_ type: T.Type, from cell: PostgresCell) throws -> T {
        do {
            return try T(from: ScalarDecoder(cell: cell))
        } catch is NotAColumn {
            let text = try cell.decode(String.self)
            return try JSONDecoder().decode(T.self, from: Data(text.utf8))
        }
    }
}

private struct ScalarDecoder: Decoder, SingleValueDecodingContainer {
    let cell: PostgresCell
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> { throw NotAColumn() }
    func unkeyedContainer() throws -> any UnkeyedDecodingContainer { throw NotAColumn() }
    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    func decodeNil() -> Bool { cell.bytes == nil }
    func decode(_ type: Bool.Type) throws -> Bool { try cell.decode(Bool.self) }
    func decode(_ type: String.Type) throws -> String { try cell.decode(String.self) }
    func decode(_ type: Int.Type) throws -> Int { try cell.decode(Int.self) }
    func decode(_ type: Int64.Type) throws -> Int64 { try cell.decode(Int64.self) }
    func decode(_ type: Int32.Type) throws -> Int32 { try narrow(Int32.self) }
    func decode(_ type: Int16.Type) throws -> Int16 { try narrow(Int16.self) }
    func decode(_ type: Int8.Type) throws -> Int8 { try narrow(Int8.self) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try narrow(UInt8.self) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try narrow(UInt16.self) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try narrow(UInt32.self) }
    func decode(_ type: UInt.Type) throws -> UInt { throw NotAColumn() }
    func decode(_ type: UInt64.Type) throws -> UInt64 { throw NotAColumn() }
    func decode(_ type: Double.Type) throws -> Double { throw NotAColumn() }
    func decode(_ type: Float.Type) throws -> Float { throw NotAColumn() }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try T(from: self) }

    /// A stored integer that must fit the narrower type (a value out of range is refused, never trapped on).
    private func narrow<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        let wide = try cell.decode(Int64.self)
        guard let value = T(exactly: wide) else {
            throw ColumnMismatch(column: cell.columnName, detail: "\(wide) does not fit \(T.self)")
        }
        return value
    }
}
