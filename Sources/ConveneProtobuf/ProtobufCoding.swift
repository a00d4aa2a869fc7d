import ConveneRPC
import NIOCore
import SwiftProtobuf

/// A ByteBuffer seen as contiguous bytes, so swift-protobuf can decode from and encode into it without a copy.
struct ByteBufferBytes: SwiftProtobufContiguousBytes {
    var buffer: ByteBuffer

    init(_ buffer: ByteBuffer) { self.buffer = buffer }

    init(repeating: UInt8, count: Int) {
        buffer = ByteBufferAllocator().buffer(capacity: count)
        buffer.writeRepeatingByte(repeating, count: count)
    }

    init<S: Sequence>(_ sequence: S) where S.Element == UInt8 {
        buffer = ByteBufferAllocator().buffer(capacity: sequence.underestimatedCount)
        buffer.writeBytes(Array(sequence))
    }

    var count: Int { buffer.readableBytes }

    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try buffer.withUnsafeReadableBytes(body)
    }

    mutating func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        try buffer.withUnsafeMutableReadableBytes(body)
    }
}

extension SwiftProtobuf.Message {
    /// Decodes a message; a malformed one is INVALID_ARGUMENT naming the type.
    public init(buffer: ByteBuffer) throws(RPCError) {
        do {
            try self.init(serializedBytes: ByteBufferBytes(buffer))
        } catch {
            throw RPCError(.invalidArgument, "request is not a valid \(Self.protoMessageName): \(error)")
        }
    }

    /// Serializes into a new buffer.
    public func serializedBuffer() -> ByteBuffer {
        do {
            let bytes: ByteBufferBytes = try serializedBytes()
            return bytes.buffer
        } catch {
            // Only messages with missing proto2 required fields fail; ours are proto3.
            preconditionFailure("cannot serialize \(Self.protoMessageName): \(error)")
        }
    }
}
