import CConvenePluginSpawn
import ConveneRPC
import Foundation
import Logging

/// One run of a runner process: its pid, its connection, and the thread reading it.
final class RunnerProcess: @unchecked Sendable {
    let pid: pid_t
    let channel: RunnerChannel
    let started = ContinuousClock.now
    private let exited = DispatchSemaphore(value: 0)
    private let status = Locked<String?>(nil)

    var uptime: Duration { ContinuousClock.now - started }

    private init(pid: pid_t, channel: RunnerChannel) {
        self.pid = pid
        self.channel = channel
    }

    /// Starts the runner and waits (`readyTimeout` at most) for the plugin to be ready.
    static func launch(runner: String, path: String, copy: String, containsSwift: Bool,
                       configuration: PluginHost.Configuration, logger: Logger,
                       logPace: PluginLogPace) throws(PluginLoadError) -> (RunnerProcess, PluginManifest) {
        let arguments = [runner, "--library", path, "--copy", copy, "--swift", containsSwift ? "1" : "0",
                         "--concurrency", "\(configuration.concurrencyPerPlugin)", "--max-stuck", "\(configuration.maxStuckPerPlugin)",
                         "--memory-limit", "\(configuration.memoryLimit)", "--log-level", logger.logLevel.rawValue,
                         "--sandbox", configuration.sandbox.rawValue, "--network", configuration.network.rawValue]
        var descriptor: Int32 = -1
        let pid = Self.spawn(runner, arguments, &descriptor)
        guard pid > 0 else {
            throw .processFailed(path: path, reason: "cannot start \(runner): \(String(cString: strerror(errno)))")
        }
        let process = RunnerProcess(pid: pid, channel: RunnerChannel(descriptor: descriptor))
        // Not `self`: a weakly referenced process would make every retain of it a slow one.
        process.channel.onStall = { [status = process.status] why in
            status.withLock { $0 = $0 ?? "ended by the server: it \(why)" }
            Self.killGroup(pid)
        }
        let deadline = ContinuousClock.now.advanced(by: configuration.readyTimeout)
        while true {
            let message: RunnerMessage?
            do {
                message = try process.channel.receive(until: deadline)
            } catch {
                process.kill(because: nil)
                process.reap()
                let timedOut = ContinuousClock.now >= deadline
                throw .processFailed(path: path, reason: timedOut ? "the plugin was not ready within \(configuration.readyTimeout) (ended)" : "\(error)")
            }
            switch message {
            case .ready(var manifest)?:
                manifest.path = path
                if let problem = manifest.problem {
                    process.kill(because: nil)
                    process.reap()
                    throw .badDescriptor(path: path, reason: problem)
                }
                return (process, manifest)
            case .log(let level, let text)?:
                logPace.log(logger, Logger.Level(wire: level), text)
            case .loadFailed(let reason)?:
                process.reap()
                throw .reported(path: path, message: reason)
            case nil:
                let how = process.reap()
                throw .processFailed(path: path, reason: "it ended before the plugin was ready (\(how))")
            default:
                process.kill(because: nil)
                let how = process.reap()
                throw .processFailed(path: path, reason: "its process ended before the plugin was ready (\(how))")
            }
        }
    }

    private static func spawn(_ runner: String, _ arguments: [String], _ descriptor: inout Int32) -> pid_t {
        var argv = arguments.map { strdup($0) }
        argv.append(nil)
        var envp = runnerEnvironment(ProcessInfo.processInfo.environment).map { strdup($0) }
        envp.append(nil)
        defer { for pointer in argv + envp { free(pointer) } }
        return convene_spawn_runner(runner, &argv, &envp, &descriptor)
    }

    /// What of the server's environment a runner gets: the system's (`PATH`, the locale, the
    /// time zone, where libraries are found) and the variables an operator names for plugins
    /// (`CONVENE_PLUGIN_*`); not the server's own (`CONVENE_DATABASE_URL` holds a password).
    static func runnerEnvironment(_ environment: [String: String]) -> [String] {
        environment.filter { name, _ in
            ["PATH", "LANG", "LANGUAGE", "TZ", "LD_LIBRARY_PATH", "SWIFT_BACKTRACE"].contains(name)
                || name.hasPrefix("LC_") || name.hasPrefix("CONVENE_PLUGIN_")
        }
        .map { "\($0.key)=\($0.value)" }.sorted()
    }

    /// Ends a process that misbehaves on the connection.
    func fail(_ why: String) {
        kill(because: "it \(why)")
    }

    /// SIGKILL; `reason` (when given) is how its end is reported.
    func kill(because reason: String?) {
        if let reason { status.withLock { $0 = $0 ?? reason } }
        Self.killGroup(pid)
        channel.close()
    }

    /// SIGKILL to the runner and its process group (what its plugin forked); the runner leads
    /// the group (`convene_spawn_runner`), whose id is not reused while one of them lives.
    private static func killGroup(_ pid: pid_t) {
        Glibc.kill(-pid, SIGKILL)
        Glibc.kill(pid, SIGKILL)
    }

    /// Waits for the process to end and says how it ended. Called once, by whoever read its end.
    @discardableResult
    func reap() -> String {
        var raw: Int32 = 0
        var result: pid_t
        // Its end was read: what its plugin forked ends too (before the runner is reaped, so
        // that the group's id is still its own).
        Glibc.kill(-pid, SIGKILL)
        repeat { result = waitpid(pid, &raw, 0) } while result < 0 && errno == EINTR
        let how: String
        if result < 0 {
            how = "ended"
        } else if raw & 0x7F == 0 {
            how = "exit status \((raw >> 8) & 0xFF)"
        } else {
            let signal = raw & 0x7F
            how = "signal \(signal) (\(String(cString: strsignal(signal))))"
        }
        let reported = status.withLock { $0 ?? how }
        exited.signal()
        return reported
    }

    /// Waits up to `limit` for the process to exit, then kills it.
    func waitForExit(upTo limit: Duration) {
        if limit > .zero, exited.wait(timeout: .now() + .nanoseconds(Int(limit.saturatingNanoseconds))) == .success {
            exited.signal()
            return
        }
        kill(because: nil)
    }

    /// Whether the process has ended (a zombie, not yet reaped): its connection may still be
    /// open, held by a child it forked, so its end is not always read there.
    var hasEnded: Bool {
        guard let text = ProcFS.contents("/proc/\(pid)/stat"),
              let close = text.lastIndex(of: ")") else { return false }  // reaped: its end was read
        return text[text.index(after: close)...].trimmingPrefix(" ").first.map { $0 == "Z" || $0 == "X" } ?? false
    }

    /// The resident memory of the process and of the processes it started (its plugin's
    /// children count against the plugin's limit: a forked child once held 413 MB past it),
    /// from /proc; at most `maxCounted` processes are visited.
    var residentBytes: Int {
        var pages = 0
        var pending = [pid]
        var visited = 0
        while let next = pending.popLast(), visited < Self.maxCounted {
            visited += 1
            if let text = ProcFS.contents("/proc/\(next)/statm"),
               let resident = text.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) {
                pages += resident
            }
            pending += Self.children(of: next)
        }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    static let maxCounted = 1024

    /// The processes `pid`'s threads started, from /proc/PID/task/TID/children.
    private static func children(of pid: pid_t) -> [pid_t] {
        guard let tasks = ProcFS.entries("/proc/\(pid)/task") else { return [] }
        return tasks.flatMap { task -> [pid_t] in
            guard let text = ProcFS.contents("/proc/\(pid)/task/\(task)/children") else { return [] }
            return text.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { pid_t($0) }
        }
    }
}
