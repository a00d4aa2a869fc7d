import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// File descriptors for the connection limit: `convened` raises its own RLIMIT_NOFILE to
/// what its connection limit needs, or, when the hard limit does not allow it, lowers the
/// connection limit to fit and says so at start.
public enum DescriptorLimit {
    /// Descriptors kept for everything but connections: listeners, the database and its
    /// readers (-wal, -shm), plugins, event loops, the spare the accept guard holds.
    public static let reserve = 256

    /// The connection limit that fits, after raising the soft limit as far as needed (and
    /// allowed); logs a warning when it had to lower `maxConnections`.
    public static func fit(maxConnections: Int, logger: Logger) -> Int {
        var limit = rlimit()
        guard getrlimit(RLIMIT_NOFILE_VALUE, &limit) == 0 else { return maxConnections }
        let needed = rlim_t(max(0, maxConnections) + reserve)
        if limit.rlim_cur < needed {
            let raised = min(needed, limit.rlim_max)
            var wanted = limit
            wanted.rlim_cur = raised
            if setrlimit(RLIMIT_NOFILE_VALUE, &wanted) == 0 {
                logger.info("raised the file descriptor limit", metadata: ["from": "\(limit.rlim_cur)", "to": "\(raised)"])
                limit.rlim_cur = raised
            }
        }
        let fits = limit.rlim_cur >= rlim_t(reserve) ? Int(limit.rlim_cur) - reserve : 0
        guard fits < maxConnections else { return maxConnections }
        let lowered = max(1, fits)
        logger.warning("the file descriptor limit does not allow the connection limit: lowered it", metadata: [
            "RLIMIT_NOFILE": "\(limit.rlim_cur)", "hard": "\(limit.rlim_max)",
            "max-connections": "\(maxConnections) -> \(lowered)",
            "fix": "raise the hard limit (ulimit -Hn, LimitNOFILE= in systemd) to at least \(needed)",
        ])
        return lowered
    }
}

#if canImport(Glibc)
private let RLIMIT_NOFILE_VALUE = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
#else
private let RLIMIT_NOFILE_VALUE = RLIMIT_NOFILE
#endif
