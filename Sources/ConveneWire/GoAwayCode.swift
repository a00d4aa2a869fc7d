/// Why a connection is going away, carried in GOAWAY.
public struct GoAwayCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Graceful: the sender is shutting down or draining.
    public static let noError = GoAwayCode(rawValue: 0)
    /// A frame broke the protocol (bad type, bad stream id, malformed payload).
    public static let protocolError = GoAwayCode(rawValue: 1)
    /// A frame's declared length is over the receiver's MAX_FRAME_SIZE.
    public static let frameSizeError = GoAwayCode(rawValue: 2)
    /// DATA beyond the stream's flow-control window.
    public static let flowControlError = GoAwayCode(rawValue: 3)
    /// The peer pinged too often or otherwise abused the connection.
    public static let enhanceYourCalm = GoAwayCode(rawValue: 4)
    /// The peer's preface names a major version the sender does not speak.
    public static let unsupportedVersion = GoAwayCode(rawValue: 5)
    /// No preface, settings or activity in time.
    public static let timeout = GoAwayCode(rawValue: 6)
    /// The sender failed internally.
    public static let internalError = GoAwayCode(rawValue: 7)
    /// The sender has too many connections.
    public static let overloaded = GoAwayCode(rawValue: 8)

    public var description: String {
        switch self {
        case .noError: "NO_ERROR"
        case .protocolError: "PROTOCOL_ERROR"
        case .frameSizeError: "FRAME_SIZE_ERROR"
        case .flowControlError: "FLOW_CONTROL_ERROR"
        case .enhanceYourCalm: "ENHANCE_YOUR_CALM"
        case .unsupportedVersion: "UNSUPPORTED_VERSION"
        case .timeout: "TIMEOUT"
        case .internalError: "INTERNAL_ERROR"
        case .overloaded: "OVERLOADED"
        default: "GOAWAY_CODE_\(rawValue)"
        }
    }
}
