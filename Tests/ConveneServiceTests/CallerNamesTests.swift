@testable import ConvenePluginHost
import XCTest

/// The runner's callers' names: made once per caller, never mixed up, and bounded.
final class CallerNamesTests: XCTestCase {
    func testCallsOfOneCallerShareItsNameAndEachCallerHasItsOwn() {
        var names = CallerNames()
        let first = names.name("party-1")
        let again = names.name("party-1")
        let other = names.name("party-22")
        XCTAssertTrue(first === again)
        XCTAssertFalse(first === other)
        XCTAssertEqual(String(cString: first.cString), "party-1")
        XCTAssertEqual(String(cString: other.cString), "party-22")
        XCTAssertEqual(String(cString: names.name("").cString), "")
    }

    func testAtMostAFewNamesAreKeptAndANameDroppedStaysValidForTheCallsHoldingIt() {
        var names = CallerNames()
        let held = names.name("party-0")
        for index in 1...(CallerNames.kept * 4) { _ = names.name("party-\(index)") }
        XCTAssertLessThanOrEqual(names.count, CallerNames.kept)
        // Dropped from the cache, still held by its call: its C string is intact.
        XCTAssertEqual(String(cString: held.cString), "party-0")
        let made = names.name("party-0")
        XCTAssertFalse(made === held)
        XCTAssertEqual(String(cString: made.cString), "party-0")
    }

    func testABusyCallerKeepsItsNameAmongManyOccasionalOnes() {
        var names = CallerNames()
        let busy = names.name("party-busy")
        for index in 1...(CallerNames.kept * 4) {
            _ = names.name("party-\(index)")
            XCTAssertTrue(names.name("party-busy") === busy)
        }
    }
}
