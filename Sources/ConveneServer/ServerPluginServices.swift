import ConveneBuiltins
import ConveneDomain
import ConveneRPC
import ConvenePluginHost
import ConveneServices
import ConveneStore
import Foundation

/// The plugin host's view of the server: plugin storage in the server's database, plugin
/// events into the operation's event log, descriptors into reflection, and a credential
/// per plugin for calls made "as the plugin".
final class ServerPluginServices: PluginServices {
    let store: any PluginStore
    let events: EventBus
    let descriptors: DescriptorRegistry
    private let credentials = Locked<[String: String]>([:])

    init(store: any PluginStore, events: EventBus, descriptors: DescriptorRegistry) {
        self.store = store
        self.events = events
        self.descriptors = descriptors
    }

    func storageGet(plugin: String, key: [UInt8]) throws -> [UInt8]? {
        try store.pluginGet(plugin: plugin, key: key)
    }

    func storageNext(plugin: String, prefix: [UInt8], after: [UInt8]?) throws -> [UInt8]? {
        try store.pluginNext(plugin: plugin, prefix: prefix, after: after)
    }

    func commit(plugin: String, reads: [(key: [UInt8], value: [UInt8]?)], writes: [(key: [UInt8], value: [UInt8]?)],
                events: [PluginEvent]) throws {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let records = events.compactMap { event -> EventRecord? in
            guard event.operationID.hasPrefix("op-"), let id = Int64(event.operationID.dropFirst(3)) else { return nil }
            return EventRecord(operationID: id, kind: event.kind, subjectID: "plugin:\(plugin)",
                               description: event.description, meetingID: nil, time: now)
        }
        guard let stored = try store.pluginCommit(plugin: plugin, reads: reads, writes: writes, events: records) else {
            throw PluginStorageConflict()
        }
        self.events.publish(stored)
    }

    func identify(_ metadata: Metadata) throws -> (partyID: String, roles: Set<Int32>)? {
        guard let header = metadata["authorization"], header.hasPrefix("Bearer ") else { return nil }
        let hash = TokenHashing.hash(String(header.dropFirst(7)))
        return try store.syncRead { db -> (String, Set<Int32>)? in
            guard let credential = try db.credential(tokenHash: hash), credential.revokedAt == nil,
                  let party = try db.party(id: credential.partyID) else { return nil }
            return ("party-\(party.id!)", Set(party.party.roles.map { Int32($0.rawValue) }))
        }
    }

    func registerDescriptors(_ bytes: [UInt8]) throws {
        try descriptors.add(fileDescriptorSet: bytes)
    }

    /// Plugins act for the Secretary-General's mechanisms: their party holds the
    /// Secretariat role (see Docs/PLUGINS.md, "What a plugin is trusted with").
    func pluginCredential(plugin: String) throws -> String {
        if let token = credentials.withLock({ $0[plugin] }) { return token }
        let token = TokenHashing.newToken()
        let name = "Plugin \(plugin)"
        let hash = TokenHashing.hash(token)
        _ = try store.syncWrite { db in
            let party = try db.party(named: name) ?? db.insert(PartyRecord(name: name, kind: .otherBody, roles: [.secretariatStaff]))
            _ = try db.insert(CredentialRecord(partyID: party.id!, tokenHash: hash, label: "plugin \(plugin)",
                                               createdAt: Int64(Date().timeIntervalSince1970 * 1000)))
        }
        credentials.withLock { $0[plugin] = token }
        return token
    }
}
