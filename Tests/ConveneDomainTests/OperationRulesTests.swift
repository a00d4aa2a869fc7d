import ConveneDomain
import XCTest

/// Operations, contributions, concerns (II.A.2, I.B.2), parties and roles (II.B.1).
final class OperationRulesTests: XCTestCase {
    typealias P = Parties

    func testOperationsAndContributions() {
        XCTAssertNil(refusal { try OperationRules.checkMayRegister(P.secretariat) })
        XCTAssertEqual(refusal { try OperationRules.checkMayRegister(P.president) }?.kind, .permissionDenied,
                       "the Secretariat registers operations; the President records mandates")
        XCTAssertEqual(refusal { try OperationRules.checkHost(P.agency, field: "host_country_id", id: "party-13") }?.message,
                       "host_country_id: party-13 is not a Member State; the host country is a country (II.B.3(f))")
        XCTAssertEqual(refusal { try OperationRules.checkMayChangeMandate(P.secretariat) }?.kind, .permissionDenied)
        XCTAssertNil(refusal { try OperationRules.checkPhaseChange(from: .planning, to: .deployed) })
        XCTAssertEqual(refusal { try OperationRules.checkPhaseChange(from: .drawdown, to: .deployed) }?.message,
                       "phase: an operation does not go back from drawdown to deployed")
        XCTAssertEqual(refusal { try OperationRules.checkMayContribute(P.secretariat, kind: .logistics, partyText: "party-3") }?.kind,
                       .invalidArgument)
        XCTAssertEqual(refusal { try OperationRules.checkMayContribute(P.agency, kind: .troops, partyText: "party-13") }?.message,
                       "kind: troops come from countries (II.B.3(a)) or regional or subregional organizations (II.B.3(g)); party-13 (UN agency) is a United Nations agency")
        XCTAssertNil(refusal { try OperationRules.checkMayContribute(P.agency, kind: .logistics, partyText: "party-13") })
        XCTAssertEqual(refusal { try OperationRules.checkCanContributeTroops(P.agency) }?.kind, .invalidArgument)
        XCTAssertNil(refusal { try OperationRules.checkCanContributeTroops(P.troops) })
        XCTAssertEqual(refusal { try OperationRules.checkMayIdentifyPotentialContributor(P.president) }?.kind, .permissionDenied)
        XCTAssertNil(refusal { try OperationRules.checkMayAnswerConcerns(P.president) })
        XCTAssertNil(refusal { try OperationRules.checkMayAnswerConcerns(P.secretariat) })
        XCTAssertEqual(refusal { try OperationRules.checkMayAnswerConcerns(P.troops) }?.kind, .permissionDenied)
        XCTAssertEqual(refusal { try OperationRules.checkIsConcern(false, statementID: "stmt-1") }?.kind, .failedPrecondition)
        XCTAssertEqual(refusal { try OperationRules.checkMayReadAccount(P.troops) }?.kind, .permissionDenied)
        XCTAssertNil(refusal { try OperationRules.checkMayReadAccount(P.member) })
    }

    /// A mandate update names what it changes, and what it would leave as it is.
    func testAMandateUpdateSaysWhichFieldIsUnchanged() throws {
        let fields = { (mandate: (Bool, Bool), force: (Bool, Bool), phase: (Bool, Bool)) in
            [("mandate", mandate.0, mandate.1), ("use_of_force", force.0, force.1), ("phase", phase.0, phase.1)]
        }
        XCTAssertEqual(try OperationRules.changes(fields((true, true), (true, false), (false, false))), ["mandate"])
        XCTAssertEqual(refusal { _ = try OperationRules.changes(fields((false, false), (false, false), (false, false))) }?.message,
                       "nothing to change: give mandate, use_of_force or phase")
        let same = refusal { _ = try OperationRules.changes(fields((true, false), (false, false), (true, false))) }
        XCTAssertEqual(same?.message, "nothing to change: mandate and phase are already as given")
        XCTAssertEqual(same?.kind, .failedPrecondition)
        XCTAssertEqual(refusal { _ = try OperationRules.changes(fields((false, false), (true, false), (false, false))) }?.message,
                       "nothing to change: use_of_force is already as given")
    }

    /// II.B.1: one President; the Council's roles are states', the Secretariat's the Secretariat's;
    /// administration is a role of its own.
    func testRoles() {
        XCTAssertNil(refusal { try PartyRules.checkPresidency(roles: [.councilPresident], holder: nil) })
        XCTAssertNil(refusal { try PartyRules.checkPresidency(roles: [.councilMember], holder: P.president) })
        XCTAssertEqual(refusal { try PartyRules.checkPresidency(roles: [.councilPresident], holder: P.president) }?.message,
                       "roles: President (party-1) holds the Council presidency, and there is one President at a time (II.B.1); pass it with PassPresidency, or take it from them first")
        XCTAssertEqual(refusal { try PartyRules.checkRoles([.administrator, .councilMember], kind: .memberState) }?.kind, .invalidArgument)
        XCTAssertEqual(refusal { try PartyRules.checkRoles([.councilPresident], kind: .unAgency) }?.kind, .invalidArgument)
        XCTAssertEqual(refusal { try PartyRules.checkRoles([.secretariatStaff], kind: .memberState) }?.kind, .invalidArgument)
        XCTAssertNil(refusal { try PartyRules.checkRoles([.administrator], kind: .otherBody) })
        XCTAssertNil(refusal { try PartyRules.checkRoles([.councilMember], kind: .memberState) })
        XCTAssertEqual(refusal { try PartyRules.checkMayReceivePresidency(P.agency, partyText: "party-13") }?.kind, .failedPrecondition)
        XCTAssertEqual(refusal { try PartyRules.checkMayReceivePresidency(P.president, partyText: "party-1") }?.message,
                       "party_id: party-1 (President) already holds the Council presidency")
        XCTAssertNil(refusal { try PartyRules.checkMayReceivePresidency(P.member, partyText: "party-2") })
        XCTAssertNil(refusal { try PartyRules.checkAdministrator(P.administrator, calling: "x") })
        XCTAssertEqual(refusal { try PartyRules.checkAdministrator(P.president, calling: "a/B") }?.kind, .permissionDenied)
        XCTAssertEqual(refusal { try PartyRules.checkTakesPart(P.administrator) }?.kind, .permissionDenied,
                       "the administrator's credential is for administration only")
        XCTAssertNil(refusal { try PartyRules.checkTakesPart(P.troops) })
    }
}
