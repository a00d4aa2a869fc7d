import ConveneDomain
import XCTest

final class FlagRulesTests: XCTestCase {
    func testTheMeetingsAFlagNames() {
        XCTAssertEqual(FlagRules.meetingsNamed(in: "the Council members discuss report-1 in mtg-12 on 2026-12-02, before mtg-3"), [12, 3])
        XCTAssertEqual(FlagRules.meetingsNamed(in: "distributed 5 h before the contributors' meeting"), [])
        XCTAssertEqual(FlagRules.meetingsNamed(in: "mtg-"), [])
        XCTAssertEqual(FlagRules.meetingsNamed(in: "mtg-mtg-7."), [7])
    }

    func testAFlagIsShownOnlyWhenEveryMeetingItNamesMaybeSeen() {
        let flags = ["late by 2 h", "in mtg-1 before mtg-2", "in mtg-2"]
        XCTAssertEqual(FlagRules.visible(flags) { $0 == 2 }, ["late by 2 h", "in mtg-2"])
        XCTAssertEqual(FlagRules.visible(flags) { _ in true }, flags)
        XCTAssertEqual(FlagRules.visible(flags) { _ in false }, ["late by 2 h"])
    }
}
