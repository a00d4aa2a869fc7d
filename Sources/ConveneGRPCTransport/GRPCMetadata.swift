import ConveneWire
import Foundation
import NIOHPACK

/// Custom metadata to and from HTTP/2 header fields. Keys ending in `-bin` carry bytes,
/// base64-encoded on the wire (padded or not on input, padded on output); every other
/// value is printable ASCII. Pseudo-headers and the headers gRPC itself defines are not
/// metadata.
enum GRPCMetadata {
    /// Headers that belong to HTTP/2 or to gRPC, never handed to a handler as metadata.
    static func isReserved(_ name: String) -> Bool {
        if name.hasPrefix(":") || name.hasPrefix("grpc-") { return true }
        switch name {
        case "content-type", "te", "host", "connection", "content-length", "keep-alive", "proxy-connection",
             "transfer-encoding", "upgrade":
            return true
        default:
            return false
        }
    }

    /// One header's value as metadata (base64 for `-bin` keys), or why it cannot be.
    static func value(name: String, _ value: String) -> Result<Metadata.Value, MetadataError> {
        let entry: Metadata.Value
        if name.hasSuffix("-bin") {
            guard let bytes = decodeBase64(value) else {
                return .failure(MetadataError(message: "metadata '\(name)' is not valid base64"))
            }
            entry = .binary(bytes)
        } else {
            entry = .string(value)
        }
        if let problem = Metadata.validate(key: name, value: entry) { return .failure(MetadataError(message: problem)) }
        return .success(entry)
    }

    /// Appends `metadata` to `headers`, skipping reserved names (a handler cannot forge
    /// `grpc-status` or a pseudo-header) and entries that are not valid metadata.
    static func append(_ metadata: Metadata, to headers: inout HPACKHeaders) {
        for entry in metadata where !isReserved(entry.key) && Metadata.validate(key: entry.key, value: entry.value) == nil {
            switch entry.value {
            case .string(let text): headers.add(name: entry.key, value: text)
            case .binary(let bytes): headers.add(name: entry.key, value: Data(bytes).base64EncodedString())
            }
        }
    }

    /// Standard base64, with or without padding.
    static func decodeBase64(_ text: String) -> [UInt8]? {
        var padded = text
        let remainder = padded.utf8.count % 4
        if remainder == 1 { return nil }
        if remainder > 0 { padded += String(repeating: "=", count: 4 - remainder) }
        return Data(base64Encoded: padded).map { Array($0) }
    }
}

struct MetadataError: Error {
    let message: String
}
