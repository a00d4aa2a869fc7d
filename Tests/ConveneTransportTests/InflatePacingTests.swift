@testable import ConveneTransport
import XCTest

/// How fast one connection's compressed requests are inflated: a burst, then a steady pace.
final class InflatePacingTests: XCTestCase {
    private let start = MonotonicInstant(nanoseconds: 1_000_000_000)

    private func at(_ seconds: Double) -> MonotonicInstant {
        MonotonicInstant(nanoseconds: start.nanoseconds + Int64(seconds * 1e9))
    }

    func testTheBurstIsFreeAndThenEachByteWaitsItsTurn() throws {
        var pacing = InflatePacing()
        let mib = 1 << 20
        XCTAssertNil(pacing.inflated(InflatePacing.burstBytes, now: at(0)), "the burst inflates at once")
        // 32 MiB more at once, at 64 MiB/s: half a second to wait.
        let wait = try XCTUnwrap(pacing.inflated(32 * mib, now: at(0)))
        XCTAssertEqual(Double(wait.components.attoseconds) / 1e18 + Double(wait.components.seconds), 0.5, accuracy: 0.001)
        // Having waited, it is within its pace again, with no burst saved up meanwhile.
        XCTAssertNil(pacing.inflated(0, now: at(0.5)))
        XCTAssertNotNil(pacing.inflated(mib, now: at(0.5)))
    }

    func testAQuietConnectionEarnsBackItsBurstAndNoMore() {
        var pacing = InflatePacing()
        XCTAssertNil(pacing.inflated(InflatePacing.burstBytes, now: at(0)))
        // An hour later: the whole burst again, not an hour's worth of bytes.
        XCTAssertNil(pacing.inflated(InflatePacing.burstBytes, now: at(3600)))
        XCTAssertNotNil(pacing.inflated(1, now: at(3600)))
    }

    func testAClockThatSeemsToGoBackGrantsNothing() {
        var pacing = InflatePacing()
        XCTAssertNil(pacing.inflated(InflatePacing.burstBytes, now: at(10)))
        XCTAssertNotNil(pacing.inflated(1 << 20, now: at(5)))
    }
}
