import NIOCore

/// What holding one received message for its handler costs beyond its bytes (its buffer's
/// storage, its place in the handler's queue and in the transport's bookkeeping), which a
/// server counts against its memory budget with the bytes: a peer streaming tiny messages
/// that are never taken made the server hold about 300 bytes for each 45 the budget counted.
public enum KeptMessage {
    public static let overhead = 320
}

extension ByteBuffer {
    /// Extra storage a kept message may hold beyond its own bytes (see `detachedIfSmall`).
    public static let keptSliceSlack = 1024

    /// This message with storage of its own when it is a small part of a larger buffer
    /// (the read it arrived in): a message that is kept (queued for a handler, waiting for
    /// the end of its stream) otherwise holds the whole read buffer, and a peer sending
    /// many small messages that the server keeps made it hold tens of times what the
    /// memory budget counted (the budget counts message bytes). A message that fills most
    /// of its storage is kept as it is, without a copy.
    public func detachedIfSmall() -> ByteBuffer {
        let size = readableBytes
        guard storageCapacity > 2 * size + Self.keptSliceSlack else { return self }
        var copy = ByteBufferAllocator().buffer(capacity: size)
        copy.writeImmutableBuffer(self)
        return copy
    }
}
