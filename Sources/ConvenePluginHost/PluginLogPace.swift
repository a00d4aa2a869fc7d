import Logging
import Synchronization

/// A plugin's lines in the server's log, at a bounded rate: a plugin that logs without a pause
/// (60 KB lines in a loop wrote 13 MB a second to the server's log) would fill the disk and
/// hold the server's threads in its writes. Lines past the rate are dropped, and counted: the
/// next line written after them says how many (at most once every `noteInterval`).
///
/// A budget of lines and of bytes, each refilled at a steady rate up to a burst (two token
/// buckets). Lines the logger would not write at its level cost nothing.
final class PluginLogPace: Sendable {
    static let linesPerSecond = 100.0
    static let burstLines = 1_000.0
    static let bytesPerSecond = 256.0 * 1024
    static let burstBytes = 4.0 * 1024 * 1024
    static let noteInterval: UInt64 = 10_000_000_000

    private struct State {
        var lines = PluginLogPace.burstLines
        var bytes = PluginLogPace.burstBytes
        var refilledAt: UInt64?
        var droppedLines = 0
        var droppedBytes = 0
        var notedAt: UInt64 = 0

        /// What was dropped and not yet said, once a note is due (the first at once, then one
        /// in `noteInterval` at most); taken, so that it is said once.
        mutating func takeNote(now: UInt64) -> (lines: Int, bytes: Int)? {
            guard droppedLines > 0, now &- notedAt >= PluginLogPace.noteInterval || notedAt == 0 else { return nil }
            defer {
                droppedLines = 0
                droppedBytes = 0
                notedAt = now
            }
            return (droppedLines, droppedBytes)
        }
    }

    private let state = Mutex(State())

    /// What to do with a line of `size` bytes at `now` (monotonic nanoseconds): write it or
    /// not, and, when lines were dropped before it, say so first.
    func admit(size: Int, now: UInt64) -> (write: Bool, dropped: (lines: Int, bytes: Int)?) {
        state.withLock { state in
            let elapsed = Double(now &- (state.refilledAt ?? now)) / 1e9
            state.refilledAt = now
            state.lines = min(Self.burstLines, state.lines + elapsed * Self.linesPerSecond)
            state.bytes = min(Self.burstBytes, state.bytes + elapsed * Self.bytesPerSecond)
            guard state.lines >= 1, state.bytes >= Double(size) else {
                state.droppedLines += 1
                state.droppedBytes += size
                return (false, nil)
            }
            state.lines -= 1
            state.bytes -= Double(size)
            return (true, state.takeNote(now: now))
        }
    }

    /// Lines dropped and not yet said, once `noteInterval` has passed since the last note (a
    /// plugin that stopped logging after a flood): the watchdog's tick says so.
    func noteDropped(now: UInt64) -> (lines: Int, bytes: Int)? {
        state.withLock { $0.takeNote(now: now) }
    }

    /// Says in `logger` what was dropped and not yet said (`noteDropped`).
    func noteDropped(in logger: Logger) {
        if let dropped = noteDropped(now: monotonicNanos()) { logger.warning("\(Self.note(dropped))") }
    }

    static func note(_ dropped: (lines: Int, bytes: Int)) -> String {
        "\(dropped.lines) log lines of the plugin (\(dropped.bytes) bytes) were dropped: over its rate of \(Int(linesPerSecond)) lines and \(Int(bytesPerSecond) >> 10) KiB a second"
    }

    /// Writes a plugin's line to `logger` at this pace, its control characters escaped.
    func log(_ logger: Logger, _ level: Logger.Level, _ text: String) {
        guard level >= logger.logLevel else { return }
        log(level, text) { logger.log(level: $0, "\($1.escapingControlCharacters)") }
    }

    /// Hands a line to `write` at this pace, after a line saying how many were dropped before it.
    func log(_ level: Logger.Level, _ text: String, now: UInt64 = monotonicNanos(), write: (Logger.Level, String) -> Void) {
        let (admitted, dropped) = admit(size: text.utf8.count, now: now)
        if let dropped { write(.warning, Self.note(dropped)) }
        if admitted { write(level, text) }
    }
}

extension Logger.Level {
    /// A level as a runner sends it (its place in `allCases`); past the last, the last.
    init(wire: UInt8) {
        let levels = Logger.Level.allCases
        self = levels[min(Int(wire), levels.count - 1)]
    }
}
