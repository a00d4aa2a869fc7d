import ConveneRPC
import ConveneWire

/// Per-call options of the client.
public struct CallOptions: Sendable {
    /// Relative timeout, sent to the server and enforced by both sides; nil for none.
    public var timeout: Duration?
    /// Metadata sent with the call.
    public var metadata: Metadata
    /// Encoding for the request messages: deflate compresses them (when the server
    /// accepts it); `send(_:compress: false)` opts one message out.
    public var requestCompression: MessageEncoding
    /// Ask the server to compress its responses with this encoding.
    public var responseCompression: MessageEncoding

    public init(timeout: Duration? = nil, metadata: Metadata = Metadata(),
                requestCompression: MessageEncoding = .identity, responseCompression: MessageEncoding = .identity) {
        self.timeout = timeout
        self.metadata = metadata
        self.requestCompression = requestCompression
        self.responseCompression = responseCompression
    }

    /// Options carrying a bearer credential (metadata `authorization: Bearer <token>`).
    public static func bearer(_ token: String, timeout: Duration? = nil) -> CallOptions {
        var metadata = Metadata()
        metadata.add("authorization", "Bearer \(token)")
        return CallOptions(timeout: timeout, metadata: metadata)
    }

    var timeoutMicros: UInt64 {
        guard let timeout else { return 0 }
        let micros = timeout.saturatingNanoseconds / 1_000
        return UInt64(max(micros, 1))
    }
}

/// The response of a unary call.
public struct UnaryResponse: Sendable {
    public var message: ByteBuffer
    public var headers: Metadata
    public var trailers: Metadata
}

/// A call that the server never processed (it arrived after the server's GOAWAY, or the
/// connection was already going away): safe to retry on another connection.
public struct CallNotProcessed: Error, CustomStringConvertible, Sendable {
    public var reason: String
    public var description: String { "call was not processed: \(reason)" }
}

import NIOCore
