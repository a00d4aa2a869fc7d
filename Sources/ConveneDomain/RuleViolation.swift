/// Why the resolution's rules (or plain validity) forbid an action. The services map the
/// kind to a status code; the message names the field or the provision.
public struct RuleViolation: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// The caller's role does not allow it.
        case permissionDenied
        /// A rule of the resolution forbids it in the current state.
        case failedPrecondition
        /// A field is malformed or missing.
        case invalidArgument
        case notFound
        case alreadyExists
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
