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

    /// II.B.5(b): the lead time before the contributors' meeting, and before the Council's own
    /// discussion, with the real figures: never rounded up to look compliant.
    func testDistributionFlagsWhatTheRuleBreaksInRealFigures() {
        let now: Int64 = 1_800_000_000_000
        let rule = "the rule is 48 h before it (II.B.5(b): early distribution, so that the meeting comes before the Council members discuss the report)"
        func flags(_ lead: Int64, council: [BriefingRules.CouncilDiscussion] = []) -> [String] {
            BriefingRules.distributionFlags(now: now, meetingAt: now + lead, leadTime: 48 * hour, councilDiscussions: council)
        }
        XCTAssertEqual(flags(48 * hour), [], "exactly the lead time is in time")
        XCTAssertEqual(flags(48 * hour - 1), ["distributed 47.9 h before the contributors' meeting; \(rule)"],
                       "a millisecond short is 47.9 h, never 48.0")
        XCTAssertEqual(flags(47 * hour + 59 * 60_000), ["distributed 47.9 h before the contributors' meeting; \(rule)"])
        XCTAssertEqual(flags(10 * hour + hour / 20), ["distributed 10.0 h before the contributors' meeting; \(rule)"])
        XCTAssertEqual(flags(42 * 60_000), ["distributed 42 min before the contributors' meeting; \(rule)"])
        XCTAssertEqual(flags(0), ["distributed at the time of the contributors' meeting; \(rule)"])
        XCTAssertEqual(flags(-(3 * hour + hour / 4)),
                       ["distributed 3.2 h after the contributors' meeting was scheduled (2027-01-15 04:45 UTC); \(rule)"],
                       "a report distributed after the meeting says so")
        XCTAssertEqual(BriefingRules.distributionFlags(now: now, meetingAt: now + 2 * hour, leadTime: 90 * 60_000, councilDiscussions: []), [])
        XCTAssertTrue(BriefingRules.distributionFlags(now: now, meetingAt: now + hour, leadTime: 90 * 60_000, councilDiscussions: [])[0]
            .contains("the rule is 1 h 30 min before it"))
        let councilFirst = flags(100 * hour, council: [.init(id: "mtg-3", scheduledAt: now - hour), .init(id: "mtg-4", scheduledAt: now + 50 * hour)])
        XCTAssertEqual(councilFirst,
                       ["the Council members discuss the operation in mtg-4 on 2027-01-17 10:00 UTC, before the contributors' meeting on 2027-01-19 12:00 UTC (II.B.5(b))"])
        XCTAssertEqual(flags(100 * hour, council: [.init(id: "mtg-3", scheduledAt: now - hour), .init(id: "mtg-5", scheduledAt: now + 200 * hour)]),
                       [], "discussions before now or after the meeting do not count")
    }

    func testALateDistributionNeedsAReason() throws {
        XCTAssertEqual(try BriefingRules.checkLateReason(flags: [], reason: "unasked"), nil, "nothing broken, nothing recorded")
        XCTAssertEqual(try BriefingRules.checkLateReason(flags: ["late"], reason: "Attack of 3 May"), "Attack of 3 May")
        XCTAssertEqual(refusal { _ = try BriefingRules.checkLateReason(flags: ["late", "council first"], reason: nil) }?.message,
                       "late; council first; give late_reason to distribute anyway")
    }

    func testAReportGoesOnceToAContributorsMeetingOfItsOperation() {
        XCTAssertEqual(refusal { try BriefingRules.checkNotDistributed(distributed: true, reportID: "report-1") }?.message,
                       "report report-1 was already distributed")
        XCTAssertNil(refusal { try BriefingRules.checkDistributionMeeting(meetingOperation: "op-1", reportOperation: "op-1",
                                                                          form: .consultationMeeting, meetingID: "mtg-2", reportID: "report-1") })
        XCTAssertEqual(refusal { try BriefingRules.checkDistributionMeeting(meetingOperation: "op-2", reportOperation: "op-1",
                                                                             form: .consultationMeeting, meetingID: "mtg-2",
                                                                             reportID: "report-1") }?.message,
                       "meeting_id: mtg-2 is on operation op-2, and report-1 on op-1; a report goes to the meetings on its operation")
        XCTAssertEqual(refusal { try BriefingRules.checkDistributionMeeting(meetingOperation: "op-1", reportOperation: "op-1",
                                                                             form: .councilMeeting, meetingID: "mtg-2",
                                                                             reportID: "report-1") }?.kind, .failedPrecondition)
    }

    func testAFactSheetIssuedAheadGoesToThoseInvitedAtTheStart() {
        // Ahead of the start: whoever is invited now (one invited since, one no longer).
        XCTAssertEqual(BriefingRules.factSheetRecipients(issuedAt: 100, scheduledAt: 200, recordedAtIssue: [1, 2], invitedNow: [1, 3]), [1, 3])
        // At (or after) the start, and for a meeting recorded after the fact: those invited then.
        XCTAssertEqual(BriefingRules.factSheetRecipients(issuedAt: 200, scheduledAt: 200, recordedAtIssue: [1, 2], invitedNow: [1, 3]), [1, 2])
        XCTAssertEqual(BriefingRules.factSheetRecipients(issuedAt: 900, scheduledAt: 200, recordedAtIssue: [1, 2], invitedNow: []), [1, 2])
    }

    func testFactSheetsAtTheStartOfTheMeeting() {
        let start: Int64 = 1_800_000_000_000, day: Int64 = 86_400_000, grace = BriefingRules.factSheetStartGrace
        func check(_ status: MeetingStatus = .convened, at now: Int64, past: Bool = false) -> RuleViolation? {
            refusal { try BriefingRules.checkFactSheetTiming(status, scheduledAt: start, now: now, recordedAfterTheFact: past,
                                                             meetingID: "mtg-1") }
        }
        // Ahead of the start (it is in the participants' hands when the meeting starts), and
        // during a late start.
        XCTAssertNil(check(at: start - 3 * day))
        XCTAssertNil(check(at: start))
        XCTAssertNil(check(at: start + grace))
        // Once the meeting is under way or over.
        XCTAssertEqual(check(at: start + grace + 1)?.message,
                       "fact sheets are handed to participants at the start of a meeting (II.B.5(c)); mtg-1 started at \(TimeText.date(start)), 1.0 h ago, after the start")
        XCTAssertTrue(check(.held, at: start - day)?.message.contains("was already held") == true)
        // A meeting recorded after the fact has its record completed with the sheet of its start,
        // until it is recorded as held.
        XCTAssertNil(check(at: start + 3 * day, past: true))
        XCTAssertTrue(check(.held, at: start + 3 * day, past: true)?.message.contains("was already held") == true)
    }

    /// II.B.5(d), (e).
    func testBriefersAndAssessments() throws {
        XCTAssertNil(refusal { try BriefingRules.checkBriefer(isSeniorFieldMission: true, unavailableReason: "") })
        XCTAssertNil(refusal { try BriefingRules.checkBriefer(isSeniorFieldMission: false, unavailableReason: "SRSG travelling") })
        XCTAssertEqual(refusal { try BriefingRules.checkBriefer(isSeniorFieldMission: false, unavailableReason: "\n\t") }?.kind,
                       .failedPrecondition)
        XCTAssertEqual(refusal { try BriefingRules.checkBriefer(isSeniorFieldMission: true, unavailableReason: "SRSG travelling") }?.kind,
                       .invalidArgument, "the briefer giving it is not unavailable")
        XCTAssertEqual(try BriefingRules.missingDimensions(political: "Tense", military: "", humanitarian: " ", humanRights: "Abuses"),
                       ["military", "humanitarian"])
        XCTAssertEqual(refusal { _ = try BriefingRules.missingDimensions(political: "", military: "", humanitarian: "",
                                                                         humanRights: "") }?.kind, .invalidArgument)
    }

    /// I.B.9: a range of distinct options, each with its analysis; for the Council and the contributors.
    func testAdvice() {
        XCTAssertNil(refusal { try BriefingRules.checkOptions([("Reinforce", "Because"), ("Withdraw", "Because not")]) })
        XCTAssertTrue(refusal { try BriefingRules.checkOptions([("Reinforce", "Because")]) }?.message
            .contains("give at least two distinct options, got 1") == true)
        let twice = refusal { try BriefingRules.checkOptions([("Reinforce", "Two battalions"), ("  reinforce ", "Three battalions")]) }
        XCTAssertEqual(twice?.kind, .failedPrecondition)
        XCTAssertEqual(twice?.message,
                       "options[1]: '  reinforce ' is options[0] again; advice offers a range of distinct options for action (I.B.9)")
        for again in ["reinforce.", "REINFORCE!", "« Reinforce »", "Reinforce\u{3000}"] {
            XCTAssertEqual(refusal { try BriefingRules.checkOptions([("Reinforce", "Because"), (again, "Because too")]) }?.kind,
                           .failedPrecondition, "punctuation does not make '\(again)' another option")
        }
        XCTAssertNil(refusal { try BriefingRules.checkOptions([("Reinforce the north", "a"), ("Reinforce the south", "b")]) })
        XCTAssertNil(refusal { try BriefingRules.checkOptions([("Option 1", "a"), ("Option 2", "b")]) }, "digits count")
        XCTAssertEqual(refusal { try BriefingRules.checkOptions([("Reinforce", "Because"), (" ", "x")]) }?.message, "options[1].title: required")
        XCTAssertEqual(refusal { try BriefingRules.checkOptions([("Reinforce", ""), ("Withdraw", "x")]) }?.kind, .failedPrecondition)
        let potential = OperationFacts(hostCountryID: nil, potentialContributorIDs: [P.agency.id], contributions: P.facts.contributions)
        XCTAssertTrue(BriefingRules.mayReadAdvice(P.member, facts: P.facts))
        XCTAssertTrue(BriefingRules.mayReadAdvice(P.troops, facts: P.facts))
        XCTAssertTrue(BriefingRules.mayReadAdvice(P.civilians, facts: P.facts), "other personnel, as the preamble says")
        XCTAssertFalse(BriefingRules.mayReadAdvice(P.donor, facts: P.facts), "a donor is no troop-contributing country")
        XCTAssertFalse(BriefingRules.mayReadAdvice(P.agency, facts: P.factsWithAgencyStaff),
                       "a UN agency sending staff is no troop-contributing country (II.B.3(c))")
        XCTAssertTrue(BriefingRules.mayReadAdvice(P.agency, facts: potential), "a potential contributor (II.A.2)")
        XCTAssertEqual(refusal { try BriefingRules.checkMayReadAdvice(P.agency, facts: P.facts, operationID: "op-1") }?.kind,
                       .permissionDenied)
    }
}
