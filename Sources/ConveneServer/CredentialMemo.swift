/// What the server worked out for credentials it has seen (a party's grants, a plugin
/// caller), keyed by the whole `authorization` value as it came, bounded in size.
///
/// The credential found last is checked before the table: a connection's calls repeat
/// their credential, usually as the very same string (`RecentMetadata` hands each call the
/// metadata decoded for the last), which compares equal without reading its bytes, where
/// the table would hash them all. Whoever keeps one clears it when credentials change.
struct CredentialMemo<Value> {
    private var table: [String: Value] = [:]
    private var last: (credential: String, value: Value)?
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    mutating func value(for credential: String) -> Value? {
        if let last, last.credential == credential { return last.value }
        guard let found = table[credential] else { return nil }
        last = (credential, found)
        return found
    }

    /// Keeps `value` for `credential`; a full memo starts again (only accepted credentials
    /// enter it, so a flood of bad ones cannot grow it).
    mutating func keep(_ value: Value, for credential: String) {
        if table.count >= capacity { removeAll() }
        table[credential] = value
    }

    mutating func removeAll() {
        table.removeAll()
        last = nil
    }
}
