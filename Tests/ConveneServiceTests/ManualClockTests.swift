import ConveneTesting
import XCTest

/// The testing kit's manual clock: sleepers wake when it passes their deadline, in order.
final class ManualClockTests: XCTestCase {
    func testSleepersWakeWhenTheClockPassesTheirDeadline() async throws {
        let clock = ManualClock(startMillis: 1_000)
        let woke = Locked<[Int]>([])
        let sleepers = (1...3).map { seconds in
            Task {
                try await clock.sleep(for: .seconds(seconds))
                woke.withLock { $0.append(seconds) }
            }
        }
        let waiting = await eventually { clock.sleepers == 3 }
        XCTAssertTrue(waiting)
        clock.advance(by: .milliseconds(1_500))
        try await sleepers[0].value
        XCTAssertEqual(woke.withLock { $0 }, [1])
        XCTAssertEqual(clock.nowMillis(), 2_500)
        clock.advance(by: .seconds(5))
        for sleeper in sleepers { try await sleeper.value }
        XCTAssertEqual(woke.withLock { $0 }.sorted(), [1, 2, 3])
        XCTAssertEqual(clock.sleepers, 0)
    }

    func testACancelledSleeperWakesWithCancellation() async throws {
        let clock = ManualClock()
        let sleeper = Task { try await clock.sleep(for: .seconds(60)) }
        let waiting = await eventually { clock.sleepers == 1 }
        XCTAssertTrue(waiting)
        sleeper.cancel()
        do {
            try await sleeper.value
            XCTFail("a cancelled sleep returned")
        } catch is CancellationError {}
        XCTAssertEqual(clock.sleepers, 0)
    }
}

import ConveneRPC
