import ConveneRPC
import Foundation
import SwiftProtobuf

/// The protobuf file descriptors the server knows: its own, and each loaded plugin's set,
/// kept apart by owner and indexed by file name and by fully qualified symbol.
///
/// A plugin writes its own set, so nothing in it is trusted to speak for others: the server's
/// files and symbols come first whatever a plugin's set redefines; a plugin's set claims only
/// its own service (and that service's methods), so another plugin's set, loaded before, can
/// never decide how a client that encodes from reflection (`convene call`) encodes its calls;
/// and a set is gone with its plugin (an unload, a reload: a reload's set replaces the old).
public final class DescriptorRegistry: Sendable {
    /// The files of one owner, and the symbols they define.
    private struct Pool {
        var files: [String: Google_Protobuf_FileDescriptorProto] = [:]
        /// Each file serialized once, as it is added: reflection answers with these bytes, and
        /// serializing a file for every question cost about 70 µs of the server's CPU per call
        /// (an anonymous reflection flood slowed every other caller 25 times).
        var encoded: [String: Data] = [:]
        var symbols: [String: String] = [:]  // symbol -> file name

        /// Adds `file` unless one of its name is there already; `service`: the only service
        /// (with its methods) whose symbols the file may claim (nil: any).
        mutating func add(_ file: Google_Protobuf_FileDescriptorProto, onlyService service: String?) {
            guard files[file.name] == nil else { return }
            files[file.name] = file
            // Proto3 files (each parsed from bytes) always serialize again.
            encoded[file.name] = (try? file.serializedBytes()) ?? Data()
            let prefix = file.package.isEmpty ? "" : file.package + "."
            for message in file.messageType { index(message, prefix: prefix, file: file.name) }
            for e in file.enumType { claim(prefix + e.name, file.name) }
            for declared in file.service where service == nil || prefix + declared.name == service {
                claim(prefix + declared.name, file.name)
                for method in declared.method { claim(prefix + declared.name + "." + method.name, file.name) }
            }
        }

        private mutating func index(_ message: Google_Protobuf_DescriptorProto, prefix: String, file: String) {
            let name = prefix + message.name
            claim(name, file)
            for nested in message.nestedType { index(nested, prefix: name + ".", file: file) }
            for e in message.enumType { claim(name + "." + e.name, file) }
        }

        private mutating func claim(_ symbol: String, _ file: String) {
            if symbols[symbol] == nil { symbols[symbol] = file }
        }
    }

    private struct PluginPool {
        let plugin: String
        /// The service the plugin serves, and its package ("victim.v1." for "victim.v1.Victim").
        let service: String
        let package: String
        var pool = Pool()
    }

    private struct State {
        var server = Pool()
        /// Each loaded plugin's set, in load order.
        var plugins: [PluginPool] = []

        /// The pools to look in for `symbol`, in order: the server's; the plugin serving it (its
        /// service or a method); the plugins whose service's package holds it, the longest
        /// package first; then the others in load order. (Two plugins whose sets define the
        /// same type differently in one package: the one loaded first describes it when the
        /// type is asked for by name; each plugin's calls are described from its own set.)
        func pools(for symbol: String) -> [Pool] {
            let serving = plugins.filter { symbol == $0.service || symbol.hasPrefix($0.service + ".") }
            let packaged = plugins.filter { !$0.package.isEmpty && symbol.hasPrefix($0.package) }
                .enumerated().sorted { ($0.element.package.count, -$0.offset) > ($1.element.package.count, -$1.offset) }.map(\.element)
            let preferred = serving + packaged
            let others = plugins.filter { plugin in !preferred.contains { $0.plugin == plugin.plugin } }
            return [server] + preferred.map(\.pool) + others.map(\.pool)
        }

        /// Files found: their names (a file, then its transitive dependencies) and the pool
        /// they come from (each file the server's own when the server has one of that name).
        typealias Found = (names: [String], pool: Pool)

        /// The file that defines `symbol`, and its dependencies, from the first pool that defines it.
        func locate(symbol: String) -> Found? {
            for pool in pools(for: symbol) {
                if let name = pool.symbols[symbol], let names = names(name, in: pool) { return (names, pool) }
            }
            return nil
        }

        /// The file `name` and its dependencies: the server's file of that name, else the first
        /// plugin's in load order.
        func locate(file name: String) -> Found? {
            for pool in [server] + plugins.map(\.pool) {
                if let names = names(name, in: pool) { return (names, pool) }
            }
            return nil
        }

        func files(_ found: Found) -> [Google_Protobuf_FileDescriptorProto] {
            found.names.compactMap { server.files[$0] ?? found.pool.files[$0] }
        }

        func encoded(_ found: Found) -> [Data] {
            found.names.compactMap { server.encoded[$0] ?? found.pool.encoded[$0] }
        }

        /// The names of `name` and its transitive dependencies, the file first.
        private func names(_ name: String, in pool: Pool) -> [String]? {
            guard server.files[name] != nil || pool.files[name] != nil else { return nil }
            var seen: Set<String> = []
            var ordered: [String] = []
            var queue = [name]
            while !queue.isEmpty {
                let next = queue.removeFirst()
                guard !seen.contains(next), let file = server.files[next] ?? pool.files[next] else { continue }
                seen.insert(next)
                ordered.append(next)
                queue.append(contentsOf: file.dependency)
            }
            return ordered
        }
    }

    private let state = Locked(State())

    public init() {}

    /// Adds the files of the server's own FileDescriptorSet; a file already known is kept as is.
    public func add(fileDescriptorSet bytes: [UInt8]) throws {
        let set = try Google_Protobuf_FileDescriptorSet(serializedBytes: bytes)
        state.withLock { state in
            for file in set.file { state.server.add(file, onlyService: nil) }
        }
    }

    /// Registers `plugin`'s set, which serves `service` (replacing what it registered before).
    public func add(fileDescriptorSet bytes: [UInt8], plugin: String, service: String) throws {
        let set = try Google_Protobuf_FileDescriptorSet(serializedBytes: bytes)
        var registered = PluginPool(plugin: plugin, service: service,
                                    package: service.split(separator: ".").dropLast().map { $0 + "." }.joined())
        for file in set.file { registered.pool.add(file, onlyService: service) }
        state.withLock { state in
            state.plugins.removeAll { $0.plugin == plugin }
            state.plugins.append(registered)
        }
    }

    /// Forgets `plugin`'s set (it was unloaded).
    public func remove(plugin: String) {
        state.withLock { $0.plugins.removeAll { $0.plugin == plugin } }
    }

    /// The file that defines `symbol` (a service, method, message or enum).
    public func fileName(containing symbol: String) -> String? {
        state.withLock { state in state.pools(for: symbol).lazy.compactMap { $0.symbols[symbol] }.first }
    }

    public func service(named name: String) -> Google_Protobuf_ServiceDescriptorProto? {
        state.withLock { state in
            for pool in state.pools(for: name) {
                guard let fileName = pool.symbols[name], let file = pool.files[fileName] else { continue }
                let prefix = file.package.isEmpty ? "" : file.package + "."
                return file.service.first { prefix + $0.name == name }
            }
            return nil
        }
    }

    /// The file that defines `symbol` and its transitive dependencies, as its owner declared
    /// them, the file first; nil if unknown.
    public func files(containing symbol: String) -> [Google_Protobuf_FileDescriptorProto]? {
        state.withLock { state in state.locate(symbol: symbol).map { state.files($0) } }
    }

    /// The file and its transitive dependencies, the file first; nil if unknown. The server's
    /// file of that name, else the first plugin's in load order.
    public func fileWithDependencies(_ name: String) -> [Google_Protobuf_FileDescriptorProto]? {
        state.withLock { state in state.locate(file: name).map { state.files($0) } }
    }

    /// `files(containing:)`, each file serialized (as it was when added: nothing is encoded per call).
    public func encodedFiles(containing symbol: String) -> [Data]? {
        state.withLock { state in state.locate(symbol: symbol).map { state.encoded($0) } }
    }

    /// `fileWithDependencies(_:)`, each file serialized.
    public func encodedFileWithDependencies(_ name: String) -> [Data]? {
        state.withLock { state in state.locate(file: name).map { state.encoded($0) } }
    }
}
