import ConveneRPC
import SwiftProtobuf

/// The protobuf file descriptors the server knows (its own, and those plugins bring),
/// indexed by file name and by fully qualified symbol.
public final class DescriptorRegistry: Sendable {
    private struct State {
        var files: [String: Google_Protobuf_FileDescriptorProto] = [:]
        var symbols: [String: String] = [:]  // symbol -> file name
    }

    private let state = Locked(State())

    public init() {}

    /// Adds the files of a serialized FileDescriptorSet; a file already known is kept as is.
    public func add(fileDescriptorSet bytes: [UInt8]) throws {
        let set = try Google_Protobuf_FileDescriptorSet(serializedBytes: bytes)
        state.withLock { state in
            for file in set.file where state.files[file.name] == nil {
                state.files[file.name] = file
                let prefix = file.package.isEmpty ? "" : file.package + "."
                for message in file.messageType { Self.index(message, prefix: prefix, file: file.name, into: &state.symbols) }
                for e in file.enumType { Self.claim(prefix + e.name, file.name, &state.symbols) }
                for service in file.service {
                    Self.claim(prefix + service.name, file.name, &state.symbols)
                    for method in service.method { Self.claim(prefix + service.name + "." + method.name, file.name, &state.symbols) }
                }
            }
        }
    }

    private static func index(_ message: Google_Protobuf_DescriptorProto, prefix: String, file: String,
                              into symbols: inout [String: String]) {
        let name = prefix + message.name
        claim(name, file, &symbols)
        for nested in message.nestedType { index(nested, prefix: name + ".", file: file, into: &symbols) }
        for e in message.enumType { claim(name + "." + e.name, file, &symbols) }
    }

    /// A symbol stays with the file that defined it first: a plugin's descriptor set (which
    /// the plugin writes) cannot redefine the server's messages or services for reflection,
    /// nor for the clients that encode requests from it.
    private static func claim(_ symbol: String, _ file: String, _ symbols: inout [String: String]) {
        if symbols[symbol] == nil { symbols[symbol] = file }
    }

    /// The file that defines `symbol` (a service, method, message or enum).
    public func fileName(containing symbol: String) -> String? {
        state.withLock { $0.symbols[symbol] }
    }

    public func service(named name: String) -> Google_Protobuf_ServiceDescriptorProto? {
        state.withLock { state in
            guard let fileName = state.symbols[name], let file = state.files[fileName] else { return nil }
            let prefix = file.package.isEmpty ? "" : file.package + "."
            return file.service.first { prefix + $0.name == name }
        }
    }

    /// The file and its transitive dependencies, the file first; nil if unknown.
    public func fileWithDependencies(_ name: String) -> [Google_Protobuf_FileDescriptorProto]? {
        state.withLock { state in
            guard state.files[name] != nil else { return nil }
            var seen: Set<String> = []
            var ordered: [Google_Protobuf_FileDescriptorProto] = []
            var queue = [name]
            while let next = queue.first {
                queue.removeFirst()
                guard !seen.contains(next), let file = state.files[next] else { continue }
                seen.insert(next)
                ordered.append(file)
                queue.append(contentsOf: file.dependency)
            }
            return ordered
        }
    }
}
