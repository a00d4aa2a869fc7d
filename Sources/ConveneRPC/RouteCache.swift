import Synchronization

/// The methods a connection called last, as the router found them: a call to one of them
/// again is admitted without the router's lock or hashing its path
/// (`Router.admit(path:metadata:cache:)`).
///
/// Valid for one version of the router's table: any change of the table (a method
/// registered or removed, a scope required, the authorizer set) bumps the version, and the
/// next admission starts the cache again. A call admitted from the cache while a change is
/// being made is one that came just before it.
public struct RouteCache {
    struct Entry {
        let path: String
        let method: RegisteredMethod
    }

    /// Paths kept at most: a connection usually calls a few methods over and over.
    static let capacity = 8

    private(set) var version: UInt64 = .max
    private(set) var authorizer: (any CallAuthorizer)?
    private var entries: [Entry] = []
    private var nextReplaced = 0

    public init() {}

    /// The method cached for `path` at `version`, if any.
    func method(for path: String, version: UInt64) -> RegisteredMethod? {
        guard version == self.version else { return nil }
        // By index: iterating the entries would copy each (a retain and release of its path and method).
        for i in entries.indices where entries[i].path == path { return entries[i].method }
        return nil
    }

    /// Keeps what the router found for `path` in its table at `version` (with the table's authorizer).
    mutating func keep(_ method: RegisteredMethod, for path: String, version: UInt64,
                       authorizer: (any CallAuthorizer)?) {
        if version != self.version {
            self.version = version
            self.authorizer = authorizer
            entries.removeAll(keepingCapacity: true)
            nextReplaced = 0
        }
        let entry = Entry(path: path, method: method)
        if entries.count < Self.capacity {
            entries.append(entry)
        } else {
            entries[nextReplaced] = entry
            nextReplaced = (nextReplaced + 1) % Self.capacity
        }
    }
}
