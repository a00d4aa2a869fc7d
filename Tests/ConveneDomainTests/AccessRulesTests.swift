import ConveneDomain
import XCTest

/// What a party may know of an operation, and which events reach it (the read methods' rules).
final class AccessRulesTests: XCTestCase {
    typealias P = Parties
    static let host = Party(id: 30, name: "Host", kind: .memberState, roles: [])
    static let potential = Party(id: 31, name: "Potential", kind: .memberState, roles: [])
    static let stranger = Party(id: 32, name: "Stranger", kind: .memberState, roles: [])
    static let facts = OperationFacts(hostCountryID: host.id, potentialContributorIDs: [potential.id],
                                      contributions: P.facts.contributions)

    func access(_ party: Party, invited: Bool = false) -> OperationAccess {
        AccessRules.access(party, facts: Self.facts, invitedToAMeeting: invited)
    }

    func testAPartyWithoutATieToTheOperationSeesOnlyThatItExists() {
        XCTAssertEqual(access(P.secretariat), .secretariat)
        XCTAssertEqual(access(P.member), .council)
        XCTAssertEqual(access(P.president), .council)
        for party in [P.troops, P.donor, P.civilians, Self.host, Self.potential] { XCTAssertEqual(access(party), .party, party.name) }
        XCTAssertEqual(access(P.agency, invited: true), .party, "invited to one of its meetings (II.B.3(c))")
        XCTAssertEqual(access(Self.stranger), .existenceOnly)
        XCTAssertEqual(access(P.agency), .existenceOnly)
        XCTAssertEqual(refusal { try AccessRules.checkMayRead("the contributions", access: .existenceOnly, operationID: "op-1") }?.message,
                       "the contributions of operation op-1 are for the Council, the Secretariat and the parties taking part in its consultations (II.B.3); the caller has no role, contribution or invitation on it")
        XCTAssertNil(refusal { try AccessRules.checkMayRead("the contributions", access: .party, operationID: "op-1") })
    }

    func testEachEventReachesWhomItsReadMethodShowsItsSubject() {
        func admits(_ audience: EventAudience, _ party: Party, invitedTo meetings: Set<Int64> = []) -> Bool {
            audience.admits(party, access: access(party, invited: !meetings.isEmpty), facts: Self.facts, invitedTo: meetings.contains)
        }
        XCTAssertTrue(admits(.operation, P.donor))
        XCTAssertFalse(admits(.operation, Self.stranger), "nothing beyond the operation's existence")
        XCTAssertTrue(admits(.meeting(7), P.troops, invitedTo: [7]))
        XCTAssertFalse(admits(.meeting(7), P.troops, invitedTo: [8]))
        XCTAssertFalse(admits(.meeting(7), P.member), "a Council member not invited to a II.C meeting")
        XCTAssertTrue(admits(.meeting(7), P.president))
        XCTAssertTrue(admits(.request(requestedBy: P.troops.id), P.troops))
        XCTAssertFalse(admits(.request(requestedBy: P.troops.id), P.observers), "who requested a meeting is the requester's and the President's")
        XCTAssertTrue(admits(.request(requestedBy: P.troops.id), P.secretariat))
        XCTAssertTrue(admits(.advice, P.troops))
        XCTAssertFalse(admits(.advice, P.donor), "as ListAdvice: the Council and troop-contributing countries")
        XCTAssertFalse(admits(.advice, P.agency, invitedTo: [7]))
        XCTAssertTrue(admits(.experience(submittedBy: P.troops.id), P.troops))
        XCTAssertFalse(admits(.experience(submittedBy: P.troops.id), P.observers))
        XCTAssertTrue(admits(.experience(submittedBy: P.troops.id), P.member))
        // A plugin's events for one party, and for the contributors (ListVisits, ListMissions).
        XCTAssertTrue(admits(.councilSecretariatAnd(party: P.troops.id), P.troops))
        XCTAssertFalse(admits(.councilSecretariatAnd(party: P.troops.id), P.donor), "another party of the operation")
        XCTAssertTrue(admits(.councilSecretariatAnd(party: P.troops.id), P.member))
        XCTAssertTrue(admits(.councilSecretariatAnd(party: P.troops.id), P.secretariat))
        XCTAssertFalse(admits(.councilSecretariatAnd(party: Self.stranger.id), Self.stranger), "nothing beyond the operation's existence")
        XCTAssertTrue(admits(.contributors, P.donor))
        XCTAssertTrue(admits(.contributors, P.president))
        XCTAssertFalse(admits(.contributors, Self.potential), "not a contributor yet")
        XCTAssertFalse(admits(.contributors, Self.host))
        XCTAssertFalse(admits(.nobody, P.secretariat), "an audience this version does not know")
    }
}
