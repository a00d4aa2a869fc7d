import ConveneDomain
import XCTest

/// Convening, holding and speaking at meetings; requests; summaries (II.A-II.D, II.B.1-II.B.6).
final class MeetingRulesTests: XCTestCase {
    typealias P = Parties

    func testWhoConvenesWhichForm() {
        let expected: [(MeetingForm, [Party])] = [
            (.councilMeeting, [P.president]), (.consultationMeeting, [P.president]), (.councilConsultations, [P.president]),
            (.secretariatMeeting, [P.secretariat]), (.evaluation, [P.secretariat]),
            (.otherConsultation, [P.president, P.member, P.secretariat]),
        ]
        for (form, allowed) in expected {
            for party in [P.president, P.member, P.secretariat, P.troops, P.administrator] {
                let violation = refusal { try MeetingRules.checkMayConvene(party, form: form) }
                if allowed.contains(party) {
                    XCTAssertNil(violation, "\(party.name) convenes \(form)")
                } else {
                    XCTAssertEqual(violation?.kind, .permissionDenied, "\(party.name) may not convene \(form)")
                }
            }
        }
        XCTAssertTrue(refusal { try MeetingRules.checkMayConvene(P.member, form: .consultationMeeting) }?.message.contains("II.B.1") == true)
    }

    /// II.B.6: what was said in a meeting is closed once its summary went to the Council members.
    func testStatementsCloseWhenTheSummaryIsCirculated() {
        XCTAssertNil(refusal { try MeetingRules.checkStatementsOpen(summary: .notPrepared, meetingID: "mtg-1") })
        XCTAssertNil(refusal { try MeetingRules.checkStatementsOpen(summary: .prepared, meetingID: "mtg-1") })
        let closed = refusal { try MeetingRules.checkStatementsOpen(summary: .circulated, meetingID: "mtg-1") }
        XCTAssertEqual(closed?.kind, .failedPrecondition)
        XCTAssertTrue(closed?.message.hasPrefix("the summary of mtg-1 has been circulated to the Council members (II.B.6)") == true)
    }

    func testTheInformalPaperHasItsAgendaAndTheIssuesToBeDiscussed() {
        XCTAssertNil(refusal { try MeetingRules.checkInformalPaper(form: .consultationMeeting, agenda: "1. Mandate", issues: ["Force structure"]) })
        XCTAssertTrue(refusal { try MeetingRules.checkInformalPaper(form: .consultationMeeting, agenda: nil, issues: ["Force structure"]) }?
            .message.hasPrefix("informal_paper:") == true)
        XCTAssertTrue(refusal { try MeetingRules.checkInformalPaper(form: .consultationMeeting, agenda: " ", issues: ["Force structure"]) }?
            .message.hasPrefix("informal_paper:") == true)
        for issues in [[], [""], ["  ", "\n"]] {
            let violation = refusal { try MeetingRules.checkInformalPaper(form: .consultationMeeting, agenda: "1. Mandate", issues: issues) }
            XCTAssertEqual(violation?.kind, .failedPrecondition, "II.B.5(a): the issues to be discussed, not \(issues)")
            XCTAssertTrue(violation?.message.contains("II.B.5(a)") == true)
        }
        XCTAssertNil(refusal { try MeetingRules.checkInformalPaper(form: .councilMeeting, agenda: nil, issues: []) },
                     "only the consultation meetings of II.B have the paper")
    }

    func testTheOccasionOfAConsultationMeeting() {
        XCTAssertEqual(refusal { try MeetingRules.checkOccasion(form: .consultationMeeting, stage: nil, answersRequest: false) }?.kind,
                       .invalidArgument, "II.B.2: a stage or a request")
        XCTAssertNil(refusal { try MeetingRules.checkOccasion(form: .consultationMeeting, stage: .termination, answersRequest: false) })
        XCTAssertNil(refusal { try MeetingRules.checkOccasion(form: .consultationMeeting, stage: nil, answersRequest: true) })
        XCTAssertNil(refusal { try MeetingRules.checkOccasion(form: .councilMeeting, stage: nil, answersRequest: false) })
    }

    func testMissionOfficialsJoinOnlyTheSecretariatsMeetings() {
        XCTAssertNil(refusal { try MeetingRules.checkMissionOfficials(form: .secretariatMeeting, named: true) })
        XCTAssertNil(refusal { try MeetingRules.checkMissionOfficials(form: .consultationMeeting, named: false) })
        XCTAssertEqual(refusal { try MeetingRules.checkMissionOfficials(form: .consultationMeeting, named: true) }?.kind, .invalidArgument)
    }

    func testNoMeetingOnATerminatedOperationButItsAssessmentAndTheRecordOfWhatTookPlace() {
        for form in MeetingForm.allCases where form != .evaluation {
            XCTAssertEqual(refusal {
                try MeetingRules.checkOperationOpen(phase: .terminated, form: form, recordedAfterTheFact: false, operationID: "op-1")
            }?.message.hasPrefix("operation op-1 is terminated; no meeting is convened on it"), true, "\(form)")
            XCTAssertNil(refusal {
                try MeetingRules.checkOperationOpen(phase: .terminated, form: form, recordedAfterTheFact: true, operationID: "op-1")
            }, "\(form) recorded after the fact")
        }
        XCTAssertNil(refusal {
            try MeetingRules.checkOperationOpen(phase: .terminated, form: .evaluation, recordedAfterTheFact: false, operationID: "op-1")
        }, "I.B.3: lessons are learned at the end too")
        for phase in [Phase.planning, .deployed, .drawdown] {
            XCTAssertNil(refusal { try MeetingRules.checkOperationOpen(phase: phase, form: .consultationMeeting, recordedAfterTheFact: false,
                                                                       operationID: "op-1") })
        }
    }

    func testAMeetingAnswersAPendingRequestForItsForm() {
        let pending = MeetingRequestFacts(id: "req-1", status: .pending, form: .consultationMeeting)
        XCTAssertNil(refusal { try MeetingRules.checkAnswers(pending, form: .consultationMeeting) })
        XCTAssertEqual(refusal { try MeetingRules.checkAnswers(pending, form: .councilMeeting) }?.message,
                       "request_id: req-1 asks for consultation meetings with troop-contributing countries (II.B), not public or private meetings of the Security Council with troop-contributing countries (II.A)")
        for status in [RequestStatus.convenedAsRequested, .declined] {
            let decided = MeetingRequestFacts(id: "req-2", status: status, form: .consultationMeeting)
            XCTAssertEqual(refusal { try MeetingRules.checkAnswers(decided, form: .consultationMeeting) }?.message,
                           "request req-2 is no longer pending: it was \(status.name)")
        }
    }

    /// II.B.6 when the discussion is recorded as held: whichever meeting was convened first.
    func testACouncilDiscussionIsHeldOnlyAfterTheEarlierSummariesAreCirculated() throws {
        let earlier = [
            MeetingRules.EarlierMeeting(id: "mtg-1", form: .consultationMeeting, scheduledAt: 100, summary: .circulated),
            MeetingRules.EarlierMeeting(id: "mtg-5", form: .consultationMeeting, scheduledAt: 200, summary: .notPrepared),
            MeetingRules.EarlierMeeting(id: "mtg-6", form: .secretariatMeeting, scheduledAt: 210, summary: .notPrepared),
        ]
        func check(_ form: MeetingForm, at time: Int64, overridden: Bool = false) throws {
            try MeetingRules.checkSummariesCirculatedBeforeHeld(form: form, scheduledAt: time, earlier: earlier,
                                                                overridden: overridden, meetingID: "mtg-9")
        }
        let refused = refusal { try check(.councilConsultations, at: 300) }
        XCTAssertEqual(refused?.kind, .failedPrecondition)
        XCTAssertTrue(refused?.message.contains("mtg-5") == true && refused?.message.contains("before recording mtg-9 as held") == true,
                      refused?.message ?? "")
        XCTAssertNotNil(refusal { try check(.councilMeeting, at: 200) }, "a contributors' meeting at the same time counts, as at convening")
        XCTAssertNoThrow(try check(.councilConsultations, at: 150), "a later contributors' meeting does not")
        XCTAssertNoThrow(try check(.councilConsultations, at: 300, overridden: true), "the President's recorded override")
        for form in [MeetingForm.consultationMeeting, .secretariatMeeting, .otherConsultation, .evaluation] {
            XCTAssertNoThrow(try check(form, at: 300), "\(form) does not wait")
        }
    }

    /// II.B.6: a Council discussion waits for the circulated summaries of earlier contributors' meetings.
    func testCouncilDiscussionWaitsForTheSummaries() throws {
        let earlier = [
            MeetingRules.EarlierMeeting(id: "mtg-1", form: .consultationMeeting, scheduledAt: 100, summary: .circulated),
            MeetingRules.EarlierMeeting(id: "mtg-2", form: .consultationMeeting, scheduledAt: 200, summary: .prepared),
            MeetingRules.EarlierMeeting(id: "mtg-3", form: .secretariatMeeting, scheduledAt: 250, summary: .notPrepared),
            MeetingRules.EarlierMeeting(id: "mtg-4", form: .consultationMeeting, scheduledAt: 400, summary: .notPrepared),
        ]
        func check(_ form: MeetingForm, at time: Int64, by caller: Party = P.president, override: String? = nil) throws -> String? {
            try MeetingRules.checkSummariesCirculated(form: form, scheduledAt: time, earlier: earlier, caller: caller,
                                                      overrideReason: override)
        }
        let blocked = refusal { _ = try check(.councilMeeting, at: 300) }
        XCTAssertEqual(blocked?.kind, .failedPrecondition)
        XCTAssertTrue(blocked?.message.contains("mtg-2") == true && blocked?.message.contains("II.B.6") == true, blocked?.message ?? "")
        XCTAssertEqual(try check(.councilMeeting, at: 150), nil, "only the meetings before it count")
        XCTAssertEqual(try check(.consultationMeeting, at: 300), nil, "contributors' meetings do not wait")
        XCTAssertEqual(try check(.councilConsultations, at: 300, override: "Rapid deterioration"), "Rapid deterioration",
                       "the override is recorded when it was needed")
        XCTAssertEqual(try check(.councilConsultations, at: 150, override: "Not needed"), nil, "and only then")
        XCTAssertEqual(refusal { _ = try check(.councilMeeting, at: 300, override: "   ") }?.kind, .failedPrecondition,
                       "a blank reason is no reason")
        XCTAssertEqual(refusal { _ = try check(.councilMeeting, at: 300, by: P.secretariat, override: "x") }?.kind, .permissionDenied)
    }

    func testTheConvenerRecordsThatAMeetingWasHeldOnceAndNotBeforeItsTime() {
        func check(_ caller: Party, convenedBy: Party, _ form: MeetingForm, _ status: MeetingStatus = .convened,
                   at scheduledAt: Int64 = 1_000, now: Int64 = 2_000) -> RuleViolation? {
            refusal { try MeetingRules.checkMayRecordHeld(caller, convenedBy: convenedBy.id, form: form, status: status,
                                                         scheduledAt: scheduledAt, now: now, meetingID: "mtg-1") }
        }
        XCTAssertNil(check(P.secretariat, convenedBy: P.secretariat, .secretariatMeeting))
        XCTAssertNil(check(P.president, convenedBy: P.secretariat, .otherConsultation))
        XCTAssertEqual(check(P.president, convenedBy: P.secretariat, .secretariatMeeting)?.kind, .permissionDenied)
        XCTAssertEqual(check(P.troops, convenedBy: P.president, .consultationMeeting)?.kind, .permissionDenied)
        // A convener that lost the standing to convene the form no longer records it: the
        // President or the Secretariat does.
        var formerPresident = P.president
        formerPresident.roles.remove(.councilPresident)
        XCTAssertEqual(check(formerPresident, convenedBy: P.president, .consultationMeeting)?.kind, .permissionDenied)
        var formerStaff = P.secretariat
        formerStaff.roles.remove(.secretariatStaff)
        XCTAssertEqual(check(formerStaff, convenedBy: P.secretariat, .secretariatMeeting)?.kind, .permissionDenied)
        var otherStaff = P.secretariat
        otherStaff.id += 1_000
        XCTAssertNil(check(otherStaff, convenedBy: P.secretariat, .evaluation), "the Secretariat's own forms are the Secretariat's")
        XCTAssertEqual(check(otherStaff, convenedBy: P.president, .consultationMeeting)?.kind, .permissionDenied)
        XCTAssertEqual(check(P.president, convenedBy: P.president, .consultationMeeting, .held)?.message,
                       "meeting mtg-1 is already recorded as held")
        XCTAssertNil(check(P.president, convenedBy: P.president, .consultationMeeting, at: 2_000, now: 2_000), "at its time")
        let early = check(P.president, convenedBy: P.president, .consultationMeeting, at: 1_800_000_000_000,
                          now: 1_800_000_000_000 - 172_440_000)
        XCTAssertEqual(early?.kind, .failedPrecondition)
        XCTAssertEqual(early?.message,
                       "meeting mtg-1 is scheduled for 2027-01-15 08:00 UTC, 47.9 h from now (2027-01-13 08:06 UTC); it cannot be recorded as held before its scheduled time")
    }

    /// A meeting is convened for a time to come, or recorded after the fact with the reason.
    func testAMeetingInThePastIsRecordedAfterTheFactOnlyWithAReason() throws {
        let now: Int64 = 1_800_000_000_000
        XCTAssertNil(try MeetingRules.checkScheduledTime(now, now: now, pastReason: nil), "now is not past")
        XCTAssertNil(try MeetingRules.checkScheduledTime(now + 1, now: now, pastReason: nil))
        let past = refusal { _ = try MeetingRules.checkScheduledTime(now - 3 * 3_600_000, now: now, pastReason: nil) }
        XCTAssertEqual(past?.kind, .failedPrecondition)
        XCTAssertEqual(past?.message,
                       "scheduled_time: 2027-01-15 05:00 UTC is 3.0 h before now (2027-01-15 08:00 UTC); a meeting is convened for a time to come; to record one that took place outside the system, give past_meeting_reason")
        XCTAssertEqual(try MeetingRules.checkScheduledTime(now - 1, now: now, pastReason: "Held by video link during the outage"),
                       "Held by video link during the outage")
        XCTAssertEqual(refusal { _ = try MeetingRules.checkScheduledTime(now + 1, now: now, pastReason: "x") }?.kind, .invalidArgument,
                       "a meeting to come is not recorded after the fact")
    }

    /// II.B.5(b): the contributors' meeting on a report comes before the Council members discuss it.
    func testContributorsMeetBeforeTheCouncilDiscussesTheReport() {
        let day: Int64 = 86_400_000
        let t: Int64 = 1_800_000_000_000
        let council = MeetingRules.ScheduledDiscussion(id: "mtg-5", form: .councilConsultations, scheduledAt: t + 2 * day)
        let contributors = MeetingRules.ScheduledDiscussion(id: "mtg-6", form: .consultationMeeting, scheduledAt: t + 3 * day)
        XCTAssertEqual(MeetingRules.orderFlags(form: .consultationMeeting, scheduledAt: t + day, reportID: "report-1", others: [council]), [])
        XCTAssertEqual(MeetingRules.orderFlags(form: .consultationMeeting, scheduledAt: t + 3 * day, reportID: "report-1", others: [council]),
                       ["the Council members discuss report-1 in mtg-5 on 2027-01-17 08:00 UTC, before this contributors' meeting on 2027-01-18 08:00 UTC; meetings with troop-contributing countries are held before the Council members discuss the report (II.B.5(b))"])
        XCTAssertEqual(MeetingRules.orderFlags(form: .councilConsultations, scheduledAt: t + 2 * day, reportID: "report-1",
                                               others: [contributors]).count, 1, "and seen from the Council's side")
        XCTAssertEqual(MeetingRules.orderFlags(form: .councilMeeting, scheduledAt: t + 4 * day, reportID: "report-1", others: [contributors]), [])
        XCTAssertEqual(MeetingRules.orderFlags(form: .secretariatMeeting, scheduledAt: t + 4 * day, reportID: "report-1",
                                               others: [council]), [], "II.C meetings are not in the rule")
        XCTAssertEqual(try BriefingRules.checkLateReason(flags: ["x"], reason: "Programme of work", action: "convene"), "Programme of work")
        XCTAssertEqual(refusal { _ = try BriefingRules.checkLateReason(flags: ["x"], reason: nil, action: "convene") }?.message,
                       "x; give late_reason to convene anyway")
    }

    func testWhoSeesMeetingsAndRequests() {
        XCTAssertTrue(MeetingRules.maySee(P.troops, invited: true))
        XCTAssertFalse(MeetingRules.maySee(P.troops, invited: false))
        XCTAssertFalse(MeetingRules.maySee(P.member, invited: false), "Council members see the meetings they are invited to")
        XCTAssertTrue(MeetingRules.maySee(P.president, invited: false))
        XCTAssertTrue(MeetingRules.maySee(P.secretariat, invited: false))
        XCTAssertTrue(RequestRules.visible(P.troops, requestedBy: P.troops.id))
        XCTAssertFalse(RequestRules.visible(P.troops, requestedBy: P.observers.id))
        XCTAssertTrue(RequestRules.visible(P.secretariat, requestedBy: P.observers.id))
    }

    /// II.A.1, II.B.2: personnel contributors request meetings; the President decides (II.B.1).
    func testRequestsForMeetings() {
        for party in [P.troops, P.observers, P.civilians] {
            XCTAssertNil(refusal { try RequestRules.checkMayRequest(party, facts: P.facts, operationID: "op-1", form: .councilMeeting) },
                         "\(party.name) contributes personnel")
        }
        XCTAssertEqual(refusal { try RequestRules.checkMayRequest(P.donor, facts: P.facts, operationID: "op-1",
                                                                  form: .consultationMeeting) }?.kind, .permissionDenied)
        // A UN agency sending staff of its own attends as II.B.3(c) says; it is no troop-contributing country.
        let agency = refusal { try RequestRules.checkMayRequest(P.agency, facts: P.factsWithAgencyStaff, operationID: "op-1",
                                                                form: .consultationMeeting) }
        XCTAssertEqual(agency?.kind, .permissionDenied)
        XCTAssertTrue(agency?.message.contains("II.B.3(c) or (d)") ?? false, "\(String(describing: agency))")
        let regional = Party(id: 20, name: "Regional organization", kind: .regionalOrganization, roles: [])
        var withRegional = P.facts
        withRegional.contributions.append(Contribution(partyID: regional.id, kind: .troops, quantity: 300))
        XCTAssertNil(refusal { try RequestRules.checkMayRequest(regional, facts: withRegional, operationID: "op-1", form: .consultationMeeting) },
                     "a regional organization contributing troops (II.B.3(g))")
        XCTAssertEqual(refusal { try RequestRules.checkMayRequest(P.troops, facts: P.facts, operationID: "op-1",
                                                                  form: .otherConsultation) }?.kind, .invalidArgument)
        XCTAssertNil(refusal { try RequestRules.checkMayDecide(P.president) })
        XCTAssertEqual(refusal { try RequestRules.checkMayDecide(P.secretariat) }?.kind, .permissionDenied)
    }

    /// II.B.6: prepared by the President with the Secretariat after the meeting, circulated by
    /// the President, read by the Council (once circulated) and the Secretariat.
    func testSummaries() {
        XCTAssertNil(refusal { try SummaryRules.checkMayPrepare(P.secretariat) })
        XCTAssertNil(refusal { try SummaryRules.checkMayPrepare(P.president) })
        XCTAssertEqual(refusal { try SummaryRules.checkMayPrepare(P.member) }?.kind, .permissionDenied)
        XCTAssertEqual(refusal { try SummaryRules.checkMayCirculate(P.secretariat) }?.kind, .permissionDenied)
        XCTAssertEqual(refusal { try SummaryRules.checkMayRead(P.troops) }?.kind, .permissionDenied)
        XCTAssertNil(refusal { try SummaryRules.checkMayRead(P.member) })

        XCTAssertNil(refusal { try SummaryRules.checkMayBePrepared(form: .consultationMeeting, meeting: .held, existing: .prepared,
                                                                    meetingID: "mtg-1") }, "a prepared summary may be redone")
        XCTAssertEqual(refusal { try SummaryRules.checkMayBePrepared(form: .councilMeeting, meeting: .held, existing: nil,
                                                                      meetingID: "mtg-1") }?.kind, .failedPrecondition)
        XCTAssertTrue(refusal { try SummaryRules.checkMayBePrepared(form: .consultationMeeting, meeting: .convened, existing: nil,
                                                                     meetingID: "mtg-1") }?.message.hasPrefix("meeting mtg-1 has not been held yet") == true)
        XCTAssertEqual(refusal { try SummaryRules.checkMayBePrepared(form: .consultationMeeting, meeting: .held, existing: .circulated,
                                                                      meetingID: "mtg-1") }?.message,
                       "the summary of mtg-1 was already circulated to the Council members (II.B.6)")
        XCTAssertEqual(refusal { try SummaryRules.checkMayBeCirculated(nil, meetingID: "mtg-1") }?.kind, .failedPrecondition)
        XCTAssertEqual(refusal { try SummaryRules.checkMayBeCirculated(.circulated, meetingID: "mtg-1") }?.kind, .failedPrecondition)
        XCTAssertNil(refusal { try SummaryRules.checkMayBeCirculated(.prepared, meetingID: "mtg-1") })

        XCTAssertFalse(SummaryRules.sees(P.member, .prepared))
        XCTAssertTrue(SummaryRules.sees(P.member, .circulated))
        XCTAssertTrue(SummaryRules.sees(P.secretariat, .prepared))
        // What a reader gets: FAILED_PRECONDITION naming the state, not NOT_FOUND.
        XCTAssertEqual(refusal { try SummaryRules.checkReadable(P.member, nil, meetingID: "mtg-1") }?.kind, .failedPrecondition)
        XCTAssertEqual(refusal { try SummaryRules.checkReadable(P.member, .prepared, meetingID: "mtg-1") }?.message,
                       "the summary of mtg-1 has not been circulated to the Council members yet (II.B.6)")
        XCTAssertNil(refusal { try SummaryRules.checkReadable(P.secretariat, .prepared, meetingID: "mtg-1") })
        XCTAssertEqual(refusal { try SummaryRules.checkHasSummaries(form: .secretariatMeeting, meetingID: "mtg-1") }?.kind,
                       .failedPrecondition)
    }
}
