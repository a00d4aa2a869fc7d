import NIOCore
import NIOHTTP2

/// Room one connection has for request messages larger than a stream's window.
///
/// A stream's window bounds what an incomplete message of it may hold, so a message larger
/// than the window can only arrive once the server has room for all of it. When such a
/// message's prefix arrives its whole wire size is reserved here, first come first served,
/// and only then is its stream's window opened for the rest. A reserved message therefore
/// always completes, whatever the client does with its other streams: a client that sends
/// parts of many large messages at once (HTTP/2 allows it, and gRPC libraries do it) waits
/// for room, it never stalls the connection. The room comes back when the handler takes the
/// message or the call ends. What a connection holds of requests is at most this room plus
/// one stream window per open call.
struct GRPCRequestReservations {
    /// The room, at least one message of the largest size.
    let limit: Int
    private(set) var reserved = 0
    /// Streams waiting for room, oldest first, each with the size it waits for.
    private var waiting = CircularBuffer<(stream: HTTP2StreamID, bytes: Int)>()

    init(limit: Int) {
        self.limit = limit
    }

    var waitingCount: Int { waiting.count }

    /// Reserves `bytes` for `stream` now if there is room and no one waits before it;
    /// otherwise queues it and answers false.
    mutating func reserve(_ bytes: Int, for stream: HTTP2StreamID) -> Bool {
        if waiting.isEmpty, reserved + bytes <= limit {
            reserved += bytes
            return true
        }
        waiting.append((stream, bytes))
        return false
    }

    /// Gives back room; answers the waiting streams that now have theirs (already counted
    /// as reserved), in the order they asked: one that does not fit yet keeps those behind it
    /// waiting.
    mutating func release(_ bytes: Int) -> [Grant] {
        guard bytes > 0 else { return [] }
        reserved = max(0, reserved - bytes)
        return grantWaiting()
    }

    /// A stream stopped waiting (its call ended); the one behind it may fit where it did not.
    mutating func cancel(_ stream: HTTP2StreamID) -> [Grant] {
        guard let index = waiting.firstIndex(where: { $0.stream == stream }) else { return [] }
        waiting.remove(at: index)
        return grantWaiting()
    }

    typealias Grant = (stream: HTTP2StreamID, bytes: Int)

    private mutating func grantWaiting() -> [Grant] {
        var granted: [Grant] = []
        while let first = waiting.first, reserved + first.bytes <= limit {
            waiting.removeFirst()
            reserved += first.bytes
            granted.append(first)
        }
        return granted
    }
}
