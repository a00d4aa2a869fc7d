import ConveneRPC

/// What the plugin host needs from the rest of the server, without knowing it:
/// durable plugin storage, committed events, descriptors, and in-process calls.
public protocol PluginServices: Sendable {
    /// The committed value of a key in a plugin's storage.
    func storageGet(plugin: String, key: [UInt8]) throws -> [UInt8]?
    /// The first committed key after `after` (or from the start) that starts with `prefix`.
    func storageNext(plugin: String, prefix: [UInt8], after: [UInt8]?) throws -> [UInt8]?
    /// Commits a call's writes (nil value: delete) and events in one transaction, provided
    /// every key the call read still holds the value it read (else throws `PluginStorageConflict`).
    func commit(plugin: String, reads: [(key: [UInt8], value: [UInt8]?)], writes: [(key: [UInt8], value: [UInt8]?)],
                events: [PluginEvent]) throws
    /// Registers a plugin's serialized FileDescriptorSet for reflection.
    func registerDescriptors(_ bytes: [UInt8]) throws
    /// The party a call's credential belongs to, and its role numbers; nil when unknown.
    func identify(_ metadata: Metadata) throws -> (partyID: String, roles: Set<Int32>)?
    /// A credential the plugin calls host services with "as the plugin".
    func pluginCredential(plugin: String) throws -> String
}

/// An event a plugin emitted during a call.
public struct PluginEvent: Sendable {
    public var operationID: String
    public var kind: String
    public var description: String
}

/// A plugin call read a key that another call changed before it committed.
public struct PluginStorageConflict: Error, Sendable {
    public init() {}
}
