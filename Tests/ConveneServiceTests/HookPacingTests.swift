@testable import ConvenePluginHost
import XCTest

/// How many threads a plugin's queue needs, from how long its hooks typically run.
final class HookPacingTests: XCTestCase {
    func testUntilAHookEndedEveryQueuedHookGetsAThreadAndNoRunningHookCounts() {
        let pacing = HookPacing()
        XCTAssertEqual(pacing.lookersNeeded(backlog: 0), 0)
        XCTAssertEqual(pacing.lookersNeeded(backlog: 5), 5)
        XCTAssertFalse(pacing.endsSoon(elapsed: 1))
    }

    func testMicrosecondHooksShareOneThreadAndAnOverrunningOneStopsCounting() {
        var pacing = HookPacing()
        for _ in 0..<20 { pacing.record(nanos: 1_000) }
        XCTAssertEqual(pacing.lookersNeeded(backlog: 64), 1)
        XCTAssertTrue(pacing.endsSoon(elapsed: 5_000))
        XCTAssertFalse(pacing.endsSoon(elapsed: HookPacing.minimumOverrun))
    }

    func testMillisecondHooksWantAThreadEach() {
        var pacing = HookPacing()
        for _ in 0..<20 { pacing.record(nanos: 2_000_000) }
        XCTAssertEqual(pacing.lookersNeeded(backlog: 4), 4)
        XCTAssertTrue(pacing.endsSoon(elapsed: 5_000_000))
        XCTAssertFalse(pacing.endsSoon(elapsed: 9_000_000))
    }

    func testAnOutlierMovesTheAverageLittleButHooksThatGrowLongerAreLearned() {
        var pacing = HookPacing()
        for _ in 0..<20 { pacing.record(nanos: 1_000) }
        pacing.record(nanos: 40_000_000)
        XCTAssertLessThanOrEqual(pacing.typicalNanos ?? 0, 1_200, "a descheduled hook counts for at most twice the average")
        for _ in 0..<80 { pacing.record(nanos: 1_000_000) }
        XCTAssertGreaterThan(pacing.typicalNanos ?? 0, 500_000)
        XCTAssertGreaterThan(pacing.lookersNeeded(backlog: 3), 1)
    }

    func testHugeFiguresDoNotTrap() {
        var pacing = HookPacing()
        pacing.record(nanos: .max)
        pacing.record(nanos: .max)
        XCTAssertEqual(pacing.lookersNeeded(backlog: .max), .max)
        XCTAssertTrue(pacing.endsSoon(elapsed: 0))
        pacing.record(nanos: 0)
        XCTAssertGreaterThan(pacing.lookersNeeded(backlog: 1), 0)
    }
}
