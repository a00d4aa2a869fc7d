#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads of /proc with the system's own calls. Foundation's `String(contentsOfFile:)` kept
/// about 4 KiB of every read of an empty file for good (swift-corelibs-foundation, Swift 6.3):
/// the plugin watchdog reads each runner's `/proc/PID/task/TID/children`, empty for a runner
/// with no child, 20 times a second, and an idle server with eight isolated plugins grew by
/// 1.2 MiB a second.
public enum ProcFS {
    /// The text of the file at `path` (at most `limit` bytes of it); nil when it cannot be read.
    public static func contents(_ path: String, limit: Int = 1 << 16) -> String? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < limit {
            let wanted = min(chunk.count, limit - bytes.count)
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, wanted) }
            if count < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if count == 0 { break }
            bytes += chunk[..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The names in the directory at `path` ("." and ".." left out); nil when it cannot be read.
    public static func entries(_ path: String) -> [String]? {
        guard let directory = opendir(path) else { return nil }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != ".", name != ".." { names.append(name) }
        }
        return names
    }
}
