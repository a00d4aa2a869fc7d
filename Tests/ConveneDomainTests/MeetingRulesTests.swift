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

    func testNoMeetingOnATerminatedOperation() {
        XCTAssertEqual(refusal { try MeetingRules.checkOperationOpen(phase: .terminated, operationID: "op-1") }?.message,
                       "operation op-1 is terminated")
        for phase in [Phase.planning, .deployed, .drawdown] {
            XCTAssertNil(refusal { try MeetingRules.checkOperationOpen(phase: phase, operationID: "op-1") })
        }
    }

    func testAMeetingAnswersAPendingRequestForItsForm() {
        let pending = MeetingRequestFacts(id: "req-1", status: .pending, form: .consultationMeeting)
        XCTAssertNil(refusal { try MeetingRules.checkAnswers(pending, form: .consultationMeeting) })
        XCTAssertEqual(refusal { try MeetingRules.checkAnswers(pending, form: .councilMeeting) }?.message,
                       "request req-1 asks for a II.B meeting, not II.A")
        for status in [RequestStatus.convenedAsRequested, .declined] {
            let decided = MeetingRequestFacts(id: "req-2", status: status, form: .consultationMeeting)
            XCTAssertEqual(refusal { try MeetingRules.checkAnswers(decided, form: .consultationMeeting) }?.message,
                           "request req-2 is no longer pending")
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

    func testTheConvenerRecordsThatAMeetingWasHeldOnce() {
        XCTAssertNil(refusal { try MeetingRules.checkMayRecordHeld(P.secretariat, convenedBy: P.secretariat.id, form: .secretariatMeeting,
                                                                    status: .convened, meetingID: "mtg-1") })
        XCTAssertNil(refusal { try MeetingRules.checkMayRecordHeld(P.president, convenedBy: P.secretariat.id, form: .otherConsultation,
                                                                    status: .convened, meetingID: "mtg-1") })
        XCTAssertEqual(refusal { try MeetingRules.checkMayRecordHeld(P.president, convenedBy: P.secretariat.id, form: .secretariatMeeting,
                                                                      status: .convened, meetingID: "mtg-1") }?.kind, .permissionDenied)
        XCTAssertEqual(refusal { try MeetingRules.checkMayRecordHeld(P.troops, convenedBy: P.president.id, form: .consultationMeeting,
                                                                      status: .convened, meetingID: "mtg-1") }?.kind, .permissionDenied)
        XCTAssertEqual(refusal { try MeetingRules.checkMayRecordHeld(P.president, convenedBy: P.president.id, form: .consultationMeeting,
                                                                      status: .held, meetingID: "mtg-1") }?.message,
                       "meeting mtg-1 is already recorded as held")
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
        XCTAssertEqual(refusal { try SummaryRules.checkMayBePrepared(form: .consultationMeeting, meeting: .convened, existing: nil,
                                                                      meetingID: "mtg-1") }?.message, "meeting mtg-1 has not been held yet")
        XCTAssertEqual(refusal { try SummaryRules.checkMayBePrepared(form: .consultationMeeting, meeting: .held, existing: .circulated,
                                                                      meetingID: "mtg-1") }?.message,
                       "the summary of mtg-1 was already circulated")
        XCTAssertEqual(refusal { try SummaryRules.checkMayBeCirculated(nil, meetingID: "mtg-1") }?.kind, .failedPrecondition)
        XCTAssertEqual(refusal { try SummaryRules.checkMayBeCirculated(.circulated, meetingID: "mtg-1") }?.kind, .failedPrecondition)
        XCTAssertNil(refusal { try SummaryRules.checkMayBeCirculated(.prepared, meetingID: "mtg-1") })

        XCTAssertFalse(SummaryRules.sees(P.member, .prepared))
        XCTAssertTrue(SummaryRules.sees(P.member, .circulated))
        XCTAssertTrue(SummaryRules.sees(P.secretariat, .prepared))
    }

    func testOnePresidentAtATimeAndAdministrationForAdministrators() {
        XCTAssertNil(refusal { try PartyRules.checkPresidency(roles: [.councilPresident], holder: nil) })
        XCTAssertNil(refusal { try PartyRules.checkPresidency(roles: [.councilMember], holder: P.president) })
        XCTAssertTrue(refusal { try PartyRules.checkPresidency(roles: [.councilPresident], holder: P.president) }?
            .message.contains("President holds the Council presidency") == true)
        XCTAssertNil(refusal { try PartyRules.checkAdministrator(P.administrator, calling: "x") })
        XCTAssertEqual(refusal { try PartyRules.checkAdministrator(P.president, calling: "a/B") }?.message,
                       "only an administrator may call a/B")
    }
}
