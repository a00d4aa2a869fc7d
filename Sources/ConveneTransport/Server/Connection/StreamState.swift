/// Where a call stands, in the states PROTOCOL.md §6 names.
///
/// ```
///          CALL                END_STREAM
///  idle ---------> open ------------------> half-closed
///                    |                          |
///                    | END, CANCEL              | END, CANCEL
///                    v                          v
///                  closed <---------------------+
/// ```
/// A CALL refused at once (unknown method, too many calls) goes from idle straight to
/// closed; so does a CALL that arrives after a GOAWAY (not processed).
enum StreamState: Hashable, Sendable, CustomStringConvertible {
    /// No CALL with this id yet: it is above the highest id the client has used.
    case idle
    /// CALL received; the client may send DATA.
    case open
    /// The client sent END_STREAM; the server is still answering.
    case halfClosed
    /// END sent, CANCEL received, or refused: frames for it are dropped.
    case closed

    var description: String {
        switch self {
        case .idle: "idle"
        case .open: "open"
        case .halfClosed: "half-closed (client)"
        case .closed: "closed"
        }
    }
}
