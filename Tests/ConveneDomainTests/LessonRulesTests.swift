import ConveneDomain
import XCTest

/// Lessons learned (I.B.3, I.B.4, I.A.7).
final class LessonRulesTests: XCTestCase {
    typealias P = Parties

    /// I.B.4: the countries whose contingents serve or served submit their experience.
    func testPersonnelContributorsSubmitExperience() {
        for party in [P.troops, P.observers, P.civilians] {
            XCTAssertNil(refusal { try LessonRules.checkMaySubmitExperience(party, facts: P.facts, operationID: "op-1") })
        }
        XCTAssertEqual(refusal { try LessonRules.checkMaySubmitExperience(P.donor, facts: P.facts, operationID: "op-1") }?.kind,
                       .permissionDenied, "a trust fund has no contingents")
        XCTAssertEqual(refusal { try LessonRules.checkMaySubmitExperience(P.agency, facts: P.factsWithAgencyStaff, operationID: "op-1") }?.kind,
                       .permissionDenied, "a UN agency's staff is no national contingent (I.B.4)")
        XCTAssertTrue(LessonRules.seesExperience(P.troops, submittedBy: P.troops.id))
        XCTAssertFalse(LessonRules.seesExperience(P.troops, submittedBy: P.observers.id))
        XCTAssertTrue(LessonRules.seesExperience(P.member, submittedBy: P.observers.id))
        XCTAssertNil(refusal { try LessonRules.checkMayRecordLesson(P.secretariat) })
        XCTAssertEqual(refusal { try LessonRules.checkMayRecordLesson(P.president) }?.kind, .permissionDenied)
    }

    /// II.B.2(a), I.A.7: planning lessons, and lessons on topics the paper mentions.
    func testLessonsRelevantToMissionPlanning() {
        XCTAssertTrue(LessonRules.isRelevantToPlanning(stage: .missionPlanning, topics: [], paperText: "anything"))
        XCTAssertTrue(LessonRules.isRelevantToPlanning(stage: .termination, topics: ["Medical evacuation"],
                                                       paperText: "Agenda: MEDICAL EVACUATION and logistics"))
        XCTAssertFalse(LessonRules.isRelevantToPlanning(stage: .termination, topics: ["air assets"], paperText: "Force structure"))
        XCTAssertFalse(LessonRules.isRelevantToPlanning(stage: nil, topics: [""], paperText: "Force structure"), "an empty topic matches nothing")
    }

    func testNoExperienceOfAnOperationStillBeingPlanned() {
        XCTAssertEqual(refusal { try LessonRules.checkHasExperience(phase: .planning, operationID: "op-1") }?.kind, .failedPrecondition)
        for phase in [Phase.deployed, .drawdown, .terminated] {
            XCTAssertNil(refusal { try LessonRules.checkHasExperience(phase: phase, operationID: "op-1") }, "\(phase)")
        }
    }
}
