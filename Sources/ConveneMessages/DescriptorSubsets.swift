import SwiftProtobuf

extension ConveneDescriptorSet {
    /// The serialized FileDescriptorSet of one file of Protos/ and the files it imports, imports
    /// first: what a plugin serving that file hands the server for reflection. Empty for a file
    /// the set does not hold.
    public static func fileSet(for fileName: String) -> [UInt8] {
        guard let all = try? Google_Protobuf_FileDescriptorSet(serializedBytes: bytes) else { return [] }
        let byName = Dictionary(all.file.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var ordered: [Google_Protobuf_FileDescriptorProto] = []
        var visited: Set<String> = []
        func visit(_ name: String) {
            guard let file = byName[name], visited.insert(name).inserted else { return }
            for dependency in file.dependency { visit(dependency) }
            ordered.append(file)
        }
        visit(fileName)
        guard !ordered.isEmpty else { return [] }
        let subset = Google_Protobuf_FileDescriptorSet.with { $0.file = ordered }
        return (try? subset.serializedBytes()) ?? []
    }
}
