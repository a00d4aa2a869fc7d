import ConveneDomain
import XCTest

/// Groups of Friends of the Secretary-General (I.C.2): formed by the Secretariat; members from
/// the Council, contributors (troops and donors), potential contributors and the host country;
/// proposed invitees in a II.B.3 category, or told why not.
final class FriendsRulesTests: XCTestCase {
    typealias P = Parties

    func testTheSecretariatFormsGroupsOfTheSecretaryGeneralsFriends() {
        XCTAssertNil(refusal { try FriendsRules.checkMayForm(P.secretariat) })
        for party in [P.president, P.member, P.troops, P.administrator] {
            XCTAssertEqual(refusal { try FriendsRules.checkMayForm(party) }?.kind, .permissionDenied, party.name)
        }
    }

    func testATerminatedOperationsGroupsTakeNoNewWork() {
        for phase in [Phase.planning, .deployed, .drawdown] {
            XCTAssertNil(refusal { try FriendsRules.checkOperationTakesGroups(phase: phase, operationID: "op-1") }, "\(phase)")
        }
        let ended = refusal { try FriendsRules.checkOperationTakesGroups(phase: .terminated, operationID: "op-1") }
        XCTAssertEqual(ended?.kind, .failedPrecondition)
        XCTAssertEqual(ended?.message.hasPrefix("operation op-1 is terminated"), true)
    }

    func testMembers() {
        func eligible(_ party: Party, _ standing: PartyStanding) -> Bool { FriendsRules.membership(party, standing: standing).eligible }
        XCTAssertTrue(eligible(P.member, PartyStanding(kind: .memberState)))
        XCTAssertTrue(eligible(P.troops, PartyStanding(kind: .memberState, contributions: [.troops])))
        XCTAssertTrue(eligible(P.donor, PartyStanding(kind: .memberState, contributions: [.trustFund])))
        XCTAssertTrue(eligible(P.troops, PartyStanding(kind: .memberState, isPotentialContributor: true)))
        XCTAssertTrue(eligible(P.troops, PartyStanding(kind: .memberState, isHostCountry: true)), "a country of the region")
        XCTAssertFalse(eligible(P.troops, PartyStanding(kind: .memberState)))
        XCTAssertFalse(eligible(P.secretariat, PartyStanding(kind: .secretariat)))
        XCTAssertTrue(refusal { try FriendsRules.checkMayBeMember(P.agency, standing: PartyStanding(kind: .unAgency),
                                                                  partyText: "party-13") }?.message.contains("I.C.2") == true)
        // A UN agency's own staff make it neither a troop-contributing country nor a donor.
        XCTAssertFalse(eligible(P.agency, PartyStanding(kind: .unAgency, contributions: [.otherCivilianPersonnel])))
        XCTAssertEqual(FriendsRules.memberKinds(P.agency, standing: PartyStanding(kind: .unAgency, contributions: [.otherCivilianPersonnel, .logistics])),
                       [.donor], "what it gives beside its staff makes it a donor, not a troop contributor")
    }

    func testAMemberIsRecordedAsWhatItIsAndMayBeSeveral() {
        func kinds(_ party: Party, _ standing: PartyStanding) -> [FriendsRules.MemberKind] { FriendsRules.memberKinds(party, standing: standing) }
        XCTAssertEqual(kinds(P.member, PartyStanding(kind: .memberState)), [.councilMember])
        XCTAssertEqual(kinds(P.troops, PartyStanding(kind: .memberState, contributions: [.troops])), [.contributor])
        XCTAssertEqual(kinds(P.troops, PartyStanding(kind: .memberState, isPotentialContributor: true)), [.contributor])
        XCTAssertEqual(kinds(P.donor, PartyStanding(kind: .memberState, contributions: [.trustFund])), [.donor])
        XCTAssertEqual(kinds(P.troops, PartyStanding(kind: .memberState, isHostCountry: true, contributions: [.facilities])),
                       [.donor, .countryOfTheRegion])
        XCTAssertEqual(kinds(P.member, PartyStanding(kind: .memberState, contributions: [.civilianPolice, .trustFund])),
                       [.councilMember, .contributor, .donor])
        XCTAssertEqual(kinds(P.troops, PartyStanding(kind: .memberState)), [], "no kind fits a party that may not be a member")
        XCTAssertEqual(kinds(P.secretariat, PartyStanding(kind: .secretariat, contributions: [.troops])), [])
    }

    func testAProposedInviteeFallsInACategoryOrIsToldWhyNot() {
        let host = FriendsRules.invitationProposal(P.troops, standing: PartyStanding(kind: .memberState, isHostCountry: true,
                                                                                      contributions: [.logistics]),
                                                   form: .consultationMeeting)
        XCTAssertEqual(host.category, .hostCountryObserver)
        XCTAssertEqual(FriendsRules.invitationProposal(P.member, standing: PartyStanding(kind: .memberState), form: .consultationMeeting).category,
                       .council)
        let none = FriendsRules.invitationProposal(P.donor, standing: PartyStanding(kind: .memberState), form: .consultationMeeting)
        XCTAssertNil(none.category)
        XCTAssertTrue(none.reason.contains("no II.B.3 category"), none.reason)
        XCTAssertNil(FriendsRules.invitationProposal(P.troops, standing: PartyStanding(kind: .memberState, contributions: [.troops]),
                                                     form: .councilConsultations).category)
    }
}
