import Dispatch
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The backstop of a graceful shutdown: from the first SIGTERM or SIGINT, `convened` ends
/// within the grace period and a few seconds more, whatever the load. The graceful path
/// (GOAWAY, calls finish, connections close) runs on the event loops and the task pool; if
/// those are swamped, this timer, on a dispatch queue of its own, ends the process.
enum ShutdownWatchdog {
    /// Beyond the grace period: time for the last connections to close and the log to flush.
    static let margin = Duration.seconds(3)

    private static let queue = DispatchQueue(label: "convene.shutdown-watchdog")
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []

    static func arm(grace: Duration, logger: Logger) {
        let limit = grace + margin
        let (seconds, attoseconds) = limit.components
        let nanoseconds = Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
        for signal in [SIGTERM, SIGINT] {
            let source = DispatchSource.makeSignalSource(signal: signal, queue: queue)
            source.setEventHandler {
                queue.asyncAfter(deadline: .now() + .nanoseconds(nanoseconds)) {
                    logger.error("shutdown did not complete within the grace period; exiting now", metadata: ["limit": "\(limit)"])
                    _exit(1)
                }
            }
            source.resume()
            sources.append(source)
        }
    }
}
