import ConveneWire
import Foundation
import NIOCore

/// The annotated hex examples of Docs/PROTOCOL.md (§8), for the tests that check them: decoded
/// and re-encoded (ConveneWireTests), and replayed against a real server (conformance).
public enum ProtocolDocument {
    /// The repository's Docs/PROTOCOL.md.
    public static var url: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Docs/PROTOCOL.md")
    }

    /// The ```hex blocks of the document, by the title on their first comment line.
    public static func hexBlocks() throws -> [String: [UInt8]] {
        let text = try String(contentsOf: url, encoding: .utf8)
        var blocks: [String: [UInt8]] = [:]
        var current: (title: String, bytes: [UInt8])?
        var inBlock = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```hex") { inBlock = true; current = nil; continue }
            if inBlock && line.hasPrefix("```") {
                if let current { blocks[current.title] = current.bytes }
                inBlock = false
                continue
            }
            guard inBlock else { continue }
            let parts = line.split(separator: "#", maxSplits: 1)
            let hex = line.hasPrefix("#") ? "" : String(parts.first ?? "")
            if current == nil, line.hasPrefix("# ") {
                current = (String(line.dropFirst(2)), [])
                continue
            }
            for token in hex.split(separator: " ") {
                guard let byte = UInt8(token, radix: 16), token.count == 2 else {
                    throw NSError(domain: "PROTOCOL.md", code: 1, userInfo: [NSLocalizedDescriptionKey: "bad hex '\(token)' in: \(line)"])
                }
                current?.bytes.append(byte)
            }
        }
        return blocks
    }

    /// The frames of the block titled `title` (after its preface, if it starts with one).
    public static func frames(_ title: String) throws -> [Frame] {
        guard let bytes = try hexBlocks()[title] else {
            throw NSError(domain: "PROTOCOL.md", code: 2, userInfo: [NSLocalizedDescriptionKey: "no block '\(title)'"])
        }
        var buffer = ByteBuffer(bytes: bytes)
        if buffer.getInteger(at: 0, as: UInt32.self) == Preface.magic { _ = try buffer.readPreface() }
        var frames: [Frame] = []
        while let frame = try FrameParser().next(from: &buffer) { frames.append(frame) }
        return frames
    }
}
