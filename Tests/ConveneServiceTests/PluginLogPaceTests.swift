@testable import ConvenePluginHost
import XCTest

/// A plugin's log lines reach the server's log at a bounded rate (`PluginLogPace`): a burst,
/// then a steady rate of lines and of bytes; what is dropped is counted, and said once in a while.
final class PluginLogPaceTests: XCTestCase {
    let second: UInt64 = 1_000_000_000

    func testABurstOfLinesThenTheSteadyRate() {
        let pace = PluginLogPace()
        let burst = Int(PluginLogPace.burstLines)
        XCTAssertEqual((0..<burst).filter { _ in pace.admit(size: 10, now: 1).write }.count, burst)
        XCTAssertFalse(pace.admit(size: 10, now: 1).write, "past the burst")
        XCTAssertFalse(pace.admit(size: 10, now: 2).write)
        // A second later, a second's worth; the first of them says what was dropped.
        let first = pace.admit(size: 10, now: 1 + second)
        XCTAssertTrue(first.write)
        XCTAssertEqual(first.dropped?.lines, 2)
        XCTAssertEqual(first.dropped?.bytes, 20)
        let more = (1..<200).map { _ in pace.admit(size: 10, now: 1 + second) }
        XCTAssertEqual(more.filter(\.write).count, Int(PluginLogPace.linesPerSecond) - 1)
        XCTAssertNil(more.compactMap(\.dropped).first, "said once in ten seconds at most")
        XCTAssertEqual(pace.admit(size: 10, now: 1 + 11 * second).dropped?.lines, 100, "then again, with what was dropped since")
    }

    /// A flood that ended is said too, by the watchdog's tick, once the note is due.
    func testDropsAreSaidWhenNoLineFollows() {
        let pace = PluginLogPace()
        for _ in 0..<Int(PluginLogPace.burstLines) + 3 { _ = pace.admit(size: 4, now: 1) }
        XCTAssertEqual(pace.noteDropped(now: 2)?.lines, 3, "the first note at once")
        XCTAssertNil(pace.noteDropped(now: 3), "nothing more dropped")
        for _ in 0..<2_000 { _ = pace.admit(size: 4, now: 4) }
        XCTAssertNil(pace.noteDropped(now: 5), "not again within ten seconds")
        XCTAssertEqual(pace.noteDropped(now: 4 + 10 * second)?.lines, 2_000)
    }

    func testLargeLinesAreBoundedByBytes() {
        let pace = PluginLogPace()
        let line = 60_000
        let admitted = (0..<1000).filter { _ in pace.admit(size: line, now: 5).write }.count
        XCTAssertEqual(admitted, Int(PluginLogPace.burstBytes) / line)
        // Flooding for a minute: about a minute's bytes get through, not the flood.
        var written = 0
        for tick in 1...6000 where pace.admit(size: line, now: 5 + UInt64(tick) * second / 100).write { written += line }
        XCTAssertLessThanOrEqual(Double(written), 60 * PluginLogPace.bytesPerSecond + Double(line))
        XCTAssertGreaterThan(Double(written), 59 * PluginLogPace.bytesPerSecond - Double(line))
    }

    func testTheNoteComesBeforeTheLineThatFollowsTheDropped() {
        let pace = PluginLogPace()
        for _ in 0..<Int(PluginLogPace.burstLines) + 5 { _ = pace.admit(size: 1, now: 1) }
        var written: [String] = []
        pace.log(.info, "after", now: 1) { written.append("\($0) \($1)") }
        XCTAssertEqual(written, [], "no room yet")
        pace.log(.info, "after", now: 1 + second / 50) { written.append("\($0) \($1)") }
        XCTAssertEqual(written.count, 2)
        // Five lines of a byte, then "after" (five bytes).
        XCTAssertTrue(written.first?.hasPrefix("warning 6 log lines of the plugin (10 bytes) were dropped") ?? false, "\(written)")
        XCTAssertEqual(written.last, "info after")
    }
}
