import ConveneDomain
import XCTest

/// Reports, fact sheets, briefings and advice (II.B.5(b)-(e), I.B.9).
final class BriefingRulesTests: XCTestCase {
    typealias P = Parties
    let hour: Int64 = 3_600_000

    func testOnlyTheSecretariatPublishes() {
        XCTAssertNil(refusal { try BriefingRules.checkMayPublish(P.secretariat) })
        XCTAssertEqual(refusal { try BriefingRules.checkMayPublish(P.president) }?.kind, .permissionDenied)
    }

    /// II.B.5(b): the lead time before the contributors' meeting, and before the Council's own discussion.
    func testDistributionFlagsWhatTheRuleBreaks() {
        let now: Int64 = 1_000 * hour
        XCTAssertEqual(BriefingRules.distributionFlags(now: now, meetingAt: now + 48 * hour, leadTime: 48 * hour, councilDiscussionsAt: []),
                       [], "exactly the lead time is in time")
        XCTAssertEqual(BriefingRules.distributionFlags(now: now, meetingAt: now + 10 * hour + hour / 20, leadTime: 48 * hour,
                                                       councilDiscussionsAt: []),
                       ["distributed 10.1 h before the contributors' meeting; the rule is 48.0 h (II.B.5(b))"])
        XCTAssertEqual(BriefingRules.distributionFlags(now: now, meetingAt: now - hour, leadTime: 48 * hour, councilDiscussionsAt: []),
                       ["distributed 0.0 h before the contributors' meeting; the rule is 48.0 h (II.B.5(b))"],
                       "a meeting already past is no time at all")
        let councilFirst = BriefingRules.distributionFlags(now: now, meetingAt: now + 100 * hour, leadTime: 48 * hour,
                                                           councilDiscussionsAt: [now - hour, now + 50 * hour])
        XCTAssertEqual(councilFirst, ["the Council members discuss the operation before the contributors' meeting (II.B.5(b))"])
        XCTAssertEqual(BriefingRules.distributionFlags(now: now, meetingAt: now + 100 * hour, leadTime: 48 * hour,
                                                       councilDiscussionsAt: [now - hour, now + 200 * hour]), [],
                       "discussions before now or after the meeting do not count")
    }

    func testALateDistributionNeedsAReason() throws {
        XCTAssertEqual(try BriefingRules.checkLateReason(flags: [], reason: "unasked"), nil, "nothing broken, nothing recorded")
        XCTAssertEqual(try BriefingRules.checkLateReason(flags: ["late"], reason: "Attack of 3 May"), "Attack of 3 May")
        XCTAssertEqual(refusal { _ = try BriefingRules.checkLateReason(flags: ["late", "council first"], reason: " ") }?.message,
                       "late; council first; give late_reason to distribute anyway")
    }

    func testAReportGoesOnceToAContributorsMeetingOfItsOperation() {
        XCTAssertEqual(refusal { try BriefingRules.checkNotDistributed(distributed: true, reportID: "report-1") }?.message,
                       "report report-1 was already distributed")
        XCTAssertNil(refusal { try BriefingRules.checkDistributionMeeting(sameOperation: true, form: .consultationMeeting, meetingID: "m") })
        XCTAssertEqual(refusal { try BriefingRules.checkDistributionMeeting(sameOperation: false, form: .consultationMeeting,
                                                                             meetingID: "mtg-2") }?.message,
                       "meeting mtg-2 is not on the report's operation")
        XCTAssertEqual(refusal { try BriefingRules.checkDistributionMeeting(sameOperation: true, form: .councilMeeting,
                                                                             meetingID: "mtg-2") }?.kind, .failedPrecondition)
    }

    func testFactSheetsAtTheStartOfTheMeeting() {
        XCTAssertNil(refusal { try BriefingRules.checkFactSheetTiming(.convened, meetingID: "mtg-1") })
        XCTAssertTrue(refusal { try BriefingRules.checkFactSheetTiming(.held, meetingID: "mtg-1") }?.message.contains("II.B.5(c)") == true)
    }

    /// II.B.5(d), (e).
    func testBriefersAndAssessments() throws {
        XCTAssertNil(refusal { try BriefingRules.checkBriefer(isSeniorFieldMission: true, unavailableReason: "") })
        XCTAssertNil(refusal { try BriefingRules.checkBriefer(isSeniorFieldMission: false, unavailableReason: "SRSG travelling") })
        XCTAssertEqual(refusal { try BriefingRules.checkBriefer(isSeniorFieldMission: false, unavailableReason: "\n\t") }?.kind,
                       .failedPrecondition)
        XCTAssertEqual(try BriefingRules.missingDimensions(political: "Tense", military: "", humanitarian: " ", humanRights: "Abuses"),
                       ["military", "humanitarian"])
        XCTAssertEqual(refusal { _ = try BriefingRules.missingDimensions(political: "", military: "", humanitarian: "",
                                                                         humanRights: "") }?.kind, .invalidArgument)
    }

    /// I.B.9: options, each with its analysis; for the Council and the contributors.
    func testAdvice() {
        XCTAssertNil(refusal { try BriefingRules.checkOptions([("Reinforce", "Because"), ("Withdraw", "Because not")]) })
        XCTAssertTrue(refusal { try BriefingRules.checkOptions([("Reinforce", "Because")]) }?.message.contains("at least two, got 1") == true)
        XCTAssertEqual(refusal { try BriefingRules.checkOptions([("Reinforce", "Because"), (" ", "x")]) }?.message, "options[1].title: required")
        XCTAssertEqual(refusal { try BriefingRules.checkOptions([("Reinforce", ""), ("Withdraw", "x")]) }?.kind, .failedPrecondition)
        XCTAssertNil(refusal { try BriefingRules.checkMayReadAdvice(P.member, contributes: false, operationID: "op-1") })
        XCTAssertNil(refusal { try BriefingRules.checkMayReadAdvice(P.troops, contributes: true, operationID: "op-1") })
        XCTAssertEqual(refusal { try BriefingRules.checkMayReadAdvice(P.agency, contributes: false, operationID: "op-1") }?.kind,
                       .permissionDenied)
    }
}
