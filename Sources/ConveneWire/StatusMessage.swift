/// The status message a server sends, bounded: it travels in one END frame (within the
/// peer's MAX_FRAME_SIZE) or one `grpc-message` header (within the peer's header list
/// limit, 8 KiB in grpcio), and it may quote what a caller or a plugin sent (a 64 KiB
/// plugin error made an END frame no client could read).
public enum StatusMessage {
    public static let maxBytes = 4096

    /// `message`, or its first bytes (whole characters) and "… (cut)" within `maxBytes`.
    public static func bounded(_ message: String) -> String {
        guard message.utf8.count > maxBytes else { return message }
        let note = "… (cut)"
        var kept = ""
        var size = 0
        for character in message {
            let length = character.utf8.count
            guard size + length + note.utf8.count <= maxBytes else { break }
            kept.append(character)
            size += length
        }
        return kept + note
    }
}
