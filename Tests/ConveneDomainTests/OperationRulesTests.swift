import ConveneDomain
import XCTest

/// Operations, contributions, concerns (II.A.2, I.B.2) and the convener's choice of invitees (II.B.3).
final class OperationRulesTests: XCTestCase {
    typealias P = Parties

    func testOperationsAndContributions() {
        XCTAssertNil(refusal { try OperationRules.checkMayRegister(P.secretariat) })
        XCTAssertEqual(refusal { try OperationRules.checkMayRegister(P.member) }?.kind, .permissionDenied)
        XCTAssertEqual(refusal { try OperationRules.checkHost(P.agency, field: "host_country_id", id: "party-13") }?.message,
                       "host_country_id: party-13 is not a member state")
        XCTAssertEqual(refusal { try OperationRules.checkMayChangeMandate(P.secretariat) }?.kind, .permissionDenied)
        XCTAssertNil(refusal { try OperationRules.checkPhaseChange(from: .planning, to: .deployed) })
        XCTAssertEqual(refusal { try OperationRules.checkPhaseChange(from: .drawdown, to: .deployed) }?.message,
                       "phase: an operation does not go back from 3 to 2")
        XCTAssertEqual(refusal { try OperationRules.checkMayContribute(P.secretariat) }?.kind, .invalidArgument)
        XCTAssertEqual(refusal { try OperationRules.checkCanContributeTroops(P.agency) }?.kind, .invalidArgument)
        XCTAssertNil(refusal { try OperationRules.checkCanContributeTroops(P.troops) })
        XCTAssertEqual(refusal { try OperationRules.checkMayIdentifyPotentialContributor(P.president) }?.kind, .permissionDenied)
        XCTAssertNil(refusal { try OperationRules.checkMayAnswerConcerns(P.president) })
        XCTAssertEqual(refusal { try OperationRules.checkMayAnswerConcerns(P.troops) }?.kind, .permissionDenied)
        XCTAssertEqual(refusal { try OperationRules.checkIsConcern(false, statementID: "stmt-1") }?.kind, .failedPrecondition)
        XCTAssertEqual(refusal { try OperationRules.checkMayReadAccount(P.troops) }?.kind, .permissionDenied)
        XCTAssertNil(refusal { try OperationRules.checkMayReadAccount(P.member) })
    }

    /// II.B.3: the convener adds "as appropriate" invitees; nobody twice, nobody outside the categories.
    func testChosenInvitees() throws {
        let required = [ProposedInvitation(partyID: P.troops.id, category: .troopPoliceContributor, role: .participant, required: true)]
        let optional = [ProposedInvitation(partyID: P.donor.id, category: .specificContributor, role: .participant, required: false)]
        let chosen = try InvitationRules.choose(required: required, optional: optional,
                                                additional: [(P.donor.id, "party-15"), (P.donor.id, "party-15"), (P.troops.id, "party-10")],
                                                isParty: { _ in true }, operationID: "op-1")
        XCTAssertEqual(chosen.map(\.partyID), [P.troops.id, P.donor.id])
        XCTAssertEqual(refusal { _ = try InvitationRules.choose(required: required, optional: optional, additional: [(99, "party-99")],
                                                                isParty: { $0 != 99 }, operationID: "op-1") }?.message, "no party party-99")
        XCTAssertEqual(refusal { _ = try InvitationRules.choose(required: required, optional: optional, additional: [(13, "party-13")],
                                                                isParty: { _ in true }, operationID: "op-1") }?.message,
                       "additional_invitee_ids: party-13 falls in no II.B.3 category for operation op-1")
    }
}
