import ConveneRPC

/// What the interop services echo: request metadata under the initial keys comes back as
/// initial metadata, under the trailing keys as trailers, whatever its kind (each key in its
/// ASCII and its `-bin` form), in order, repeated keys included.
struct MetadataEcho: Sendable {
    let initialKeys: Set<String>
    let trailingKeys: Set<String>

    /// Echoes `prefix-initial`, `prefix-initial-bin`, `prefix-trailing` and `prefix-trailing-bin`.
    init(prefix: String) {
        initialKeys = [prefix + "-initial", prefix + "-initial-bin"]
        trailingKeys = [prefix + "-trailing", prefix + "-trailing-bin"]
    }

    func headers(_ metadata: Metadata) -> Metadata { pick(initialKeys, from: metadata) }
    func trailers(_ metadata: Metadata) -> Metadata { pick(trailingKeys, from: metadata) }

    private func pick(_ keys: Set<String>, from metadata: Metadata) -> Metadata {
        var echoed = Metadata()
        for entry in metadata where keys.contains(entry.key) { echoed.add(entry.key, value: entry.value) }
        return echoed
    }
}
