/// The type byte of a frame. See `Docs/PROTOCOL.md`, "Frames".
public struct FrameType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Connection settings (stream 0). Flag `ack`.
    public static let settings = FrameType(rawValue: 0x0)
    /// Client opens a call: method path, timeout, response encoding, metadata.
    public static let call = FrameType(rawValue: 0x1)
    /// Server's initial (response) metadata.
    public static let headers = FrameType(rawValue: 0x2)
    /// Length-prefixed messages of a call. Flag `endStream` (client half-close).
    public static let data = FrameType(rawValue: 0x3)
    /// Server ends a call: status code, status message, trailing metadata.
    public static let end = FrameType(rawValue: 0x4)
    /// Client cancels a call.
    public static let cancel = FrameType(rawValue: 0x5)
    /// Liveness check (stream 0). Flag `ack`.
    public static let ping = FrameType(rawValue: 0x6)
    /// The sender will accept no new calls (stream 0).
    public static let goAway = FrameType(rawValue: 0x7)
    /// Flow-control credit for one stream.
    public static let windowUpdate = FrameType(rawValue: 0x8)

    public var description: String {
        switch self {
        case .settings: "SETTINGS"
        case .call: "CALL"
        case .headers: "HEADERS"
        case .data: "DATA"
        case .end: "END"
        case .cancel: "CANCEL"
        case .ping: "PING"
        case .goAway: "GOAWAY"
        case .windowUpdate: "WINDOW_UPDATE"
        default: "UNKNOWN(0x\(String(rawValue, radix: 16)))"
        }
    }
}

/// Flag bits of the frame header.
public struct FrameFlags: OptionSet, Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// SETTINGS and PING: this frame acknowledges the peer's.
    public static let ack = FrameFlags(rawValue: 0x1)
    /// DATA: the client sends no more messages on this stream.
    public static let endStream = FrameFlags(rawValue: 0x1)
}
