import NIOCore

/// One decoded frame. Byte layouts are in `Docs/PROTOCOL.md`.
public enum Frame: Hashable, Sendable {
    case settings(Settings)
    case settingsAck
    case call(streamID: UInt32, CallStart)
    case headers(streamID: UInt32, Metadata)
    case data(streamID: UInt32, ByteBuffer, endStream: Bool)
    case end(streamID: UInt32, CallEnd)
    case cancel(streamID: UInt32, StatusCode)
    case ping(UInt64, ack: Bool)
    case goAway(GoAway)
    case windowUpdate(streamID: UInt32, increment: UInt32)

    public var type: FrameType {
        switch self {
        case .settings, .settingsAck: .settings
        case .call: .call
        case .headers: .headers
        case .data: .data
        case .end: .end
        case .cancel: .cancel
        case .ping: .ping
        case .goAway: .goAway
        case .windowUpdate: .windowUpdate
        }
    }
}

/// The payload of a CALL frame.
public struct CallStart: Hashable, Sendable {
    /// `/package.Service/Method`.
    public var path: String
    /// Relative timeout in microseconds; 0 means no deadline.
    public var timeoutMicros: UInt64
    /// The encoding the client would like compressed responses in (identity: do not compress).
    public var responseEncoding: MessageEncoding
    public var metadata: Metadata

    /// The longest timeout a server enforces: 365 days. A larger timeout off the wire is
    /// treated as this one (PROTOCOL.md §2.2), so deadline arithmetic never overflows.
    public static let maxTimeoutMicros: UInt64 = 365 * 86_400 * 1_000_000

    /// `timeoutMicros` clamped to `maxTimeoutMicros`; 0 still means no deadline.
    public var enforcedTimeoutMicros: UInt64 { min(timeoutMicros, Self.maxTimeoutMicros) }

    public init(path: String, timeoutMicros: UInt64 = 0, responseEncoding: MessageEncoding = .identity,
                metadata: Metadata = Metadata()) {
        self.path = path
        self.timeoutMicros = timeoutMicros
        self.responseEncoding = responseEncoding
        self.metadata = metadata
    }
}

/// The payload of an END frame.
public struct CallEnd: Hashable, Sendable {
    public var code: StatusCode
    /// UTF-8; may hold any character, including tabs, newlines and non-BMP characters.
    public var message: String
    public var trailers: Metadata

    public init(code: StatusCode, message: String = "", trailers: Metadata = Metadata()) {
        self.code = code
        self.message = message
        self.trailers = trailers
    }
}

/// The payload of a GOAWAY frame.
public struct GoAway: Hashable, Sendable {
    /// The highest stream id the sender accepted and will finish; calls on higher ids
    /// were not processed and are safe to retry on another connection.
    public var lastStreamID: UInt32
    public var code: GoAwayCode
    /// Human-readable reason, UTF-8.
    public var message: String

    public init(lastStreamID: UInt32, code: GoAwayCode, message: String) {
        self.lastStreamID = lastStreamID
        self.code = code
        self.message = message
    }
}
