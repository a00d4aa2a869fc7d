/// Connection settings each side announces in its first SETTINGS frame.
///
/// Each is a limit the sender imposes on what it receives. Unknown ids are ignored so
/// that later minor versions can add settings.
public struct Settings: Hashable, Sendable {
    public enum ID: UInt16, Sendable {
        case maxFrameSize = 0x1
        case maxConcurrentStreams = 0x2
        case initialWindowSize = 0x3
        case acceptEncodings = 0x4
        case maxMetadataSize = 0x5
        case maxMessageSize = 0x6
        case connectionWindowSize = 0x7
    }

    /// Bounds that every peer must respect when announcing `maxFrameSize`.
    public static let minFrameSize: UInt32 = 16 * 1024
    public static let maxAllowedFrameSize: UInt32 = 16 * 1024 * 1024 - 1
    public static let maxWindowSize: UInt32 = 0x7FFF_FFFF

    /// Largest frame payload the sender accepts. Default 64 KiB.
    public var maxFrameSize: UInt32 = 64 * 1024
    /// Calls the sender lets its peer have open at once. Default 100.
    public var maxConcurrentStreams: UInt32 = 100
    /// Bytes of DATA payload the peer may send on a new stream before it gets credit. Default 1 MiB.
    public var initialWindowSize: UInt32 = 1024 * 1024
    /// Message encodings the sender can decode: bit n set means encoding id n. Default identity + deflate.
    public var acceptEncodings: EncodingSet = [.identity, .deflate]
    /// Largest encoded metadata block (CALL, HEADERS, END) the sender accepts. Default 16 KiB.
    public var maxMetadataSize: UInt32 = 16 * 1024
    /// Largest message (after decompression) the sender accepts. Default 4 MiB.
    public var maxMessageSize: UInt32 = 4 * 1024 * 1024
    /// Bytes of DATA payload the peer may send over all streams of the connection before it
    /// gets credit (WINDOW_UPDATE on stream 0). Default 8 MiB. Only the first SETTINGS of a
    /// connection sets it (PROTOCOL.md §5).
    public var connectionWindowSize: UInt32 = Self.defaultConnectionWindowSize

    public static let defaultConnectionWindowSize: UInt32 = 8 * 1024 * 1024
    /// The smallest CONNECTION_WINDOW_SIZE a peer may announce.
    public static let minConnectionWindowSize: UInt32 = 64 * 1024

    /// The largest message this side may send to a peer with these settings: its
    /// MAX_MESSAGE_SIZE, and no more than its connection window holds with the prefix.
    public var sendableMessageSize: Int {
        min(Int(maxMessageSize), Int(connectionWindowSize) - 5)
    }

    public init() {}

    /// The settings as (id, value) pairs, in id order.
    public var pairs: [(UInt16, UInt32)] {
        var all: [(UInt16, UInt32)] = []
        forEachPair { all.append(($0, $1)) }
        return all
    }

    /// Calls `body` with each (id, value) pair, in id order, making no array (every
    /// connection writes its SETTINGS frame with this).
    public func forEachPair(_ body: (UInt16, UInt32) -> Void) {
        body(ID.maxFrameSize.rawValue, maxFrameSize)
        body(ID.maxConcurrentStreams.rawValue, maxConcurrentStreams)
        body(ID.initialWindowSize.rawValue, initialWindowSize)
        body(ID.acceptEncodings.rawValue, UInt32(acceptEncodings.rawValue))
        body(ID.maxMetadataSize.rawValue, maxMetadataSize)
        body(ID.maxMessageSize.rawValue, maxMessageSize)
        body(ID.connectionWindowSize.rawValue, connectionWindowSize)
    }

    /// Applies one received pair, validating it.
    mutating func apply(id: UInt16, value: UInt32) throws(WireError) {
        guard let known = ID(rawValue: id) else { return }
        switch known {
        case .maxFrameSize:
            guard value >= Self.minFrameSize, value <= Self.maxAllowedFrameSize else {
                throw .badSetting("MAX_FRAME_SIZE \(value) is outside \(Self.minFrameSize)...\(Self.maxAllowedFrameSize)")
            }
            maxFrameSize = value
        case .maxConcurrentStreams:
            maxConcurrentStreams = value
        case .initialWindowSize:
            guard value <= Self.maxWindowSize else {
                throw .badSetting("INITIAL_WINDOW_SIZE \(value) is over \(Self.maxWindowSize)")
            }
            initialWindowSize = value
        case .acceptEncodings:
            acceptEncodings = EncodingSet(rawValue: UInt8(truncatingIfNeeded: value)).union(.identity)
        case .maxMetadataSize:
            maxMetadataSize = value
        case .maxMessageSize:
            maxMessageSize = value
        case .connectionWindowSize:
            guard value >= Self.minConnectionWindowSize, value <= Self.maxWindowSize else {
                throw .badSetting("CONNECTION_WINDOW_SIZE \(value) is outside \(Self.minConnectionWindowSize)...\(Self.maxWindowSize)")
            }
            connectionWindowSize = value
        }
    }
}

/// A message encoding, named by its id in the message prefix.
public struct MessageEncoding: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Not compressed.
    public static let identity = MessageEncoding(rawValue: 0)
    /// zlib format (RFC 1950) deflate, as gRPC's "deflate".
    public static let deflate = MessageEncoding(rawValue: 1)
    /// gzip (RFC 1952): negotiated by gRPC over HTTP/2 only; the native protocol does not
    /// announce it, so it never appears on a native connection.
    public static let gzip = MessageEncoding(rawValue: 2)

    public var description: String {
        switch self {
        case .identity: "identity"
        case .deflate: "deflate"
        case .gzip: "gzip"
        default: "encoding(\(rawValue))"
        }
    }
}

/// A set of message encodings, as the bitmask in SETTINGS.
public struct EncodingSet: OptionSet, Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let identity = EncodingSet(rawValue: 1 << 0)
    public static let deflate = EncodingSet(rawValue: 1 << 1)

    public func contains(_ encoding: MessageEncoding) -> Bool {
        encoding.rawValue < 8 && rawValue & (1 << encoding.rawValue) != 0
    }
}
