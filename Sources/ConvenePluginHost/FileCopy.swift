#if canImport(Glibc)
import Glibc
#endif

/// Copies a file's bytes from one descriptor to another.
enum FileCopy {
    enum Outcome: Equatable {
        /// `count` bytes copied (fewer than asked: the source ended first).
        case copied(Int)
        case failed(errno: Int32)
    }

    /// Copies up to `count` bytes from the start of `source` to `target`'s position: by the
    /// kernel (`sendfile`), or, where the file systems do not support that (EINVAL, ENOSYS,
    /// EOPNOTSUPP), through a buffer of `bufferSize` bytes. Stops at the source's end.
    static func copy(from source: Int32, to target: Int32, count: Int, bufferSize: Int = 1 << 20,
                     kernel: Bool = true) -> Outcome {
        var done = 0
        if kernel {
            var offset = off_t(0)
            while done < count {
                let sent = sendfile(target, source, &offset, count - done)
                if sent > 0 {
                    done += sent
                    continue
                }
                if sent == 0 { return .copied(done) }
                let error = errno
                if error == EINTR { continue }
                guard done == 0, error == EINVAL || error == ENOSYS || error == EOPNOTSUPP else {
                    return .failed(errno: error)
                }
                return buffered(from: source, to: target, count: count, bufferSize: bufferSize)
            }
            return .copied(done)
        }
        return buffered(from: source, to: target, count: count, bufferSize: bufferSize)
    }

    private static func buffered(from source: Int32, to target: Int32, count: Int, bufferSize: Int) -> Outcome {
        let size = max(1, min(bufferSize, count))
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        defer { buffer.deallocate() }
        var done = 0
        while done < count {
            let got = pread(source, buffer, min(size, count - done), off_t(done))
            if got < 0, errno == EINTR { continue }
            if got < 0 { return .failed(errno: errno) }
            if got == 0 { break }
            var written = 0
            while written < got {
                let put = write(target, buffer + written, got - written)
                if put < 0, errno == EINTR { continue }
                if put <= 0 { return .failed(errno: put < 0 ? errno : EIO) }
                written += put
            }
            done += got
        }
        return .copied(done)
    }
}
