import NIOCore

/// The two messages of every call, a call and its answer, written to a frame in one pass
/// over raw memory: the same bytes as `RunnerMessage.write(to:)` writes field by field, where
/// each field was a check of the buffer's uniqueness and room of its own (about a tenth of a
/// runner's work on a trivial call).
enum RunnerFrameWriter {
    /// Appends `.call` whole, length first.
    static func call(id: UInt64, method: UInt32, caller: String, roles: [Int32], request: [UInt8], to buffer: inout ByteBuffer,
                     tag: UInt8) {
        var caller = caller  // `withUTF8` may make a bridged string contiguous
        caller.withUTF8 { name in
            let body = 1 + 8 + 4 + 4 + name.count + 4 + 4 * roles.count + 4 + request.count
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 4 + body) { memory in
                var out = RawFields(memory)
                out.u32(UInt32(truncatingIfNeeded: body))
                out.u8(tag)
                out.u64(id)
                out.u32(method)
                out.bytes(UnsafeRawBufferPointer(name))
                out.u32(UInt32(truncatingIfNeeded: roles.count))
                for role in roles { out.u32(UInt32(bitPattern: role)) }
                request.withUnsafeBytes { out.bytes($0) }
                return out.offset
            }
        }
    }

    /// Appends `.done` whole, length first.
    static func done(id: UInt64, status: Int32, response: [UInt8]?, error: String?, to buffer: inout ByteBuffer, tag: UInt8) {
        let errorCount = error?.utf8.count
        let body = 1 + 8 + 4 + 1 + (response.map { 4 + $0.count } ?? 0) + 1 + (errorCount.map { 4 + $0 } ?? 0)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 4 + body) { memory in
            var out = RawFields(memory)
            out.u32(UInt32(truncatingIfNeeded: body))
            out.u8(tag)
            out.u64(id)
            out.u32(UInt32(bitPattern: status))
            if let response {
                out.u8(1)
                response.withUnsafeBytes { out.bytes($0) }
            } else {
                out.u8(0)
            }
            if var text = error {
                out.u8(1)
                text.withUTF8 { out.bytes(UnsafeRawBufferPointer($0)) }
            } else {
                out.u8(0)
            }
            return out.offset
        }
    }
}

/// Big-endian integers and length-prefixed bytes stored one after another in memory the
/// caller sized for them.
private struct RawFields {
    let memory: UnsafeMutableRawBufferPointer
    var offset = 0

    init(_ memory: UnsafeMutableRawBufferPointer) { self.memory = memory }

    mutating func u8(_ value: UInt8) {
        memory.storeBytes(of: value, toByteOffset: offset, as: UInt8.self)
        offset += 1
    }

    mutating func u32(_ value: UInt32) {
        memory.storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt32.self)
        offset += 4
    }

    mutating func u64(_ value: UInt64) {
        memory.storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt64.self)
        offset += 8
    }

    /// A u32 length and the bytes.
    mutating func bytes(_ bytes: UnsafeRawBufferPointer) {
        u32(UInt32(truncatingIfNeeded: bytes.count))
        guard let source = bytes.baseAddress, let destination = memory.baseAddress, !bytes.isEmpty else { return }
        (destination + offset).copyMemory(from: source, byteCount: bytes.count)
        offset += bytes.count
    }
}
