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
    }

    func testAMomentMapsOntoTheStandardClock() {
        let inTwoSeconds = MonotonicInstant.now + .seconds(2)
        let expected = ContinuousClock.now + .seconds(2)
        let mapped = inTwoSeconds.continuousInstant
        XCTAssertLessThan(abs((mapped - expected) / .milliseconds(1)), 50, "within the time between the two readings")
        XCTAssertEqual(inTwoSeconds.deadline.uptimeNanoseconds, UInt64(inTwoSeconds.nanoseconds))
    }
}
