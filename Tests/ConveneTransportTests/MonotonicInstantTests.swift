@testable import ConveneTransport
import XCTest

/// The connection's time type: its arithmetic saturates (a deadline can come from a peer), and
/// it converts to the standard clock for handlers' contexts.
final class MonotonicInstantTests: XCTestCase {
    func testArithmeticSaturatesInsteadOfTrapping() {
        let late = MonotonicInstant(nanoseconds: .max - 10)
        XCTAssertEqual(late + .seconds(1), MonotonicInstant(nanoseconds: .max))
        XCTAssertEqual(MonotonicInstant(nanoseconds: .min + 10) + .seconds(-1), MonotonicInstant(nanoseconds: .min))
        XCTAssertEqual(MonotonicInstant(nanoseconds: .max) - MonotonicInstant(nanoseconds: .min), .nanoseconds(Int64.max))
        XCTAssertEqual(MonotonicInstant(nanoseconds: .min) - MonotonicInstant(nanoseconds: .max), .nanoseconds(Int64.min))
        let t = MonotonicInstant(nanoseconds: 5_000)
        XCTAssertEqual((t + .microseconds(3)) - t, .microseconds(3))
        XCTAssertLessThan(t, t + .nanoseconds(1))
        // A call's deadline from its timeout in microseconds: the same moment as by Duration,
        // and saturating for any timeout a peer could send.
        XCTAssertEqual(t.advanced(byMicroseconds: 3), t + .microseconds(3))
        XCTAssertEqual(t.advanced(byMicroseconds: 365 * 86_400 * 1_000_000), t + .seconds(365 * 86_400))
        XCTAssertEqual(t.advanced(byMicroseconds: .max), MonotonicInstant(nanoseconds: .max))
        XCTAssertEqual(late.advanced(byMicroseconds: 1), MonotonicInstant(nanoseconds: .max))
        XCTAssertEqual(t.advanced(byMicroseconds: UInt64(Int64.max / 1_000) + 1), MonotonicInstant(nanoseconds: .max))
    }

    func testAMomentMapsOntoTheStandardClock() {
        // Between the standard clock's readings before and after (however long the thread
        // waited between them), with a millisecond's slack for the two clocks' readings.
        let before = ContinuousClock.now
        let inTwoSeconds = MonotonicInstant.now + .seconds(2)
        let mapped = inTwoSeconds.continuousInstant
        let after = ContinuousClock.now
        XCTAssertGreaterThanOrEqual(mapped, before + .seconds(2) - .milliseconds(1))
        XCTAssertLessThanOrEqual(mapped, after + .seconds(2) + .milliseconds(1))
        XCTAssertEqual(inTwoSeconds.deadline.uptimeNanoseconds, UInt64(inTwoSeconds.nanoseconds))
    }
}
