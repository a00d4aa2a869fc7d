import ConveneDomain
import XCTest

/// Figures in refusals: truncated shortfalls, exact rules, dates in UTC.
final class TimeTextTests: XCTestCase {
    func testFiguresAreTruncatedNeverRoundedUp() {
        let hour: Int64 = 3_600_000
        XCTAssertEqual(TimeText.truncated(48 * hour - 1), "47.9 h")
        XCTAssertEqual(TimeText.truncated(48 * hour), "48.0 h")
        XCTAssertEqual(TimeText.truncated(hour - 1), "59 min")
        XCTAssertEqual(TimeText.truncated(59_999), "59 s")
        XCTAssertEqual(TimeText.truncated(-5), "0 s")
        XCTAssertEqual(TimeText.exact(48 * hour), "48 h")
        XCTAssertEqual(TimeText.exact(90 * 60_000), "1 h 30 min")
        XCTAssertEqual(TimeText.exact(90_000), "1 min 30 s")
        XCTAssertEqual(TimeText.exact(1_500), "1500 ms")
        XCTAssertEqual(TimeText.exact(0), "0 s")
    }

    func testDatesAreCivilUTC() {
        XCTAssertEqual(TimeText.date(0), "1970-01-01 00:00 UTC")
        XCTAssertEqual(TimeText.date(1_800_000_000_000), "2027-01-15 08:00 UTC")
        XCTAssertEqual(TimeText.date(951_782_400_000), "2000-02-29 00:00 UTC", "a leap day")
        XCTAssertEqual(TimeText.date(-60_000), "1969-12-31 23:59 UTC")
        XCTAssertEqual(TimeText.date(4_102_444_800_000), "2100-01-01 00:00 UTC")
        XCTAssertFalse(TimeText.date(.max).isEmpty, "any value from the network formats")
        XCTAssertFalse(TimeText.date(.min).isEmpty)
    }
}
