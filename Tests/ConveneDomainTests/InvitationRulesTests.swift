import ConveneDomain
import XCTest

final class InvitationRulesTests: XCTestCase {
    let president = Party(id: 1, name: "President", kind: .memberState, roles: [.councilPresident])
    let member = Party(id: 2, name: "Council member", kind: .memberState, roles: [.councilMember])
    let secretariat = Party(id: 3, name: "Secretariat", kind: .secretariat, roles: [.secretariatStaff])
    let troops = Party(id: 10, name: "Troop contributor", kind: .memberState, roles: [])
    let police = Party(id: 11, name: "Police contributor", kind: .memberState, roles: [])
    let potential = Party(id: 12, name: "Potential contributor", kind: .memberState, roles: [])
    let agency = Party(id: 13, name: "UN agency", kind: .unAgency, roles: [])
    let ngo = Party(id: 14, name: "Other body", kind: .otherBody, roles: [])
    let donor = Party(id: 15, name: "Donor", kind: .memberState, roles: [])
    let host = Party(id: 16, name: "Host", kind: .memberState, roles: [])
    let regionalTroops = Party(id: 17, name: "Regional troops", kind: .regionalOrganization, roles: [])
    let regional = Party(id: 18, name: "Regional", kind: .subregionalOrganization, roles: [])
    let bystander = Party(id: 19, name: "Unrelated state", kind: .memberState, roles: [])

    var facts: OperationFacts {
        OperationFacts(hostCountryID: host.id, potentialContributorIDs: [potential.id], contributions: [
            Contribution(partyID: troops.id, kind: .troops, quantity: 800),
            Contribution(partyID: police.id, kind: .civilianPolice, quantity: 120),
            Contribution(partyID: donor.id, kind: .trustFund, quantity: 2_000_000),
            Contribution(partyID: regionalTroops.id, kind: .troops, quantity: 300),
        ])
    }

    var everyone: [Party] {
        [president, member, secretariat, troops, police, potential, agency, ngo, donor, host, regionalTroops, regional, bystander]
    }

    func testCategoriesOfII_B_3() {
        XCTAssertEqual(InvitationRules.category(of: troops, in: facts), .troopPoliceContributor)       // (a)
        XCTAssertEqual(InvitationRules.category(of: police, in: facts), .troopPoliceContributor)       // (a)
        XCTAssertEqual(InvitationRules.category(of: potential, in: facts), .potentialContributor)      // (b)
        XCTAssertEqual(InvitationRules.category(of: agency, in: facts), .unBodyOrAgency)              // (c)
        XCTAssertEqual(InvitationRules.category(of: ngo, in: facts), .otherBodyObserver)              // (d)
        XCTAssertEqual(InvitationRules.category(of: donor, in: facts), .specificContributor)          // (e)
        XCTAssertEqual(InvitationRules.category(of: host, in: facts), .hostCountryObserver)           // (f)
        XCTAssertEqual(InvitationRules.category(of: regionalTroops, in: facts), .regionalTroopContributor) // (g)
        XCTAssertEqual(InvitationRules.category(of: regional, in: facts), .regionalObserver)          // (h)
        XCTAssertNil(InvitationRules.category(of: bystander, in: facts))
    }

    func testConsultationMeetingInvitesAandBAlwaysAndTheRestAsAppropriate() {
        let (required, optional) = InvitationRules.propose(form: .consultationMeeting, facts: facts, parties: everyone)
        XCTAssertEqual(Set(required.map(\.partyID)), [president.id, member.id, secretariat.id, troops.id, police.id, potential.id])
        XCTAssertEqual(Set(optional.map(\.partyID)), [agency.id, ngo.id, donor.id, host.id, regionalTroops.id, regional.id])
        // (d), (f), (h) only ever as observers.
        let observers = Set(optional.filter { $0.role == .observer }.map(\.partyID))
        XCTAssertEqual(observers, [ngo.id, host.id, regional.id])
        XCTAssertFalse(required.contains { $0.partyID == bystander.id } || optional.contains { $0.partyID == bystander.id })
    }

    func testCouncilConsultationsAreTheCouncilsOwn() {
        let (required, optional) = InvitationRules.propose(form: .councilConsultations, facts: facts, parties: everyone)
        XCTAssertEqual(Set(required.map(\.partyID)), [president.id, member.id, secretariat.id])
        XCTAssertTrue(optional.isEmpty)
    }

    func testSecretariatMeetingsAreWithContributors() {
        let (required, _) = InvitationRules.propose(form: .secretariatMeeting, facts: facts, parties: everyone)
        XCTAssertEqual(Set(required.map(\.partyID)), [secretariat.id, troops.id, police.id, regionalTroops.id])
    }

    func testOnlyThePresidentConvenesII_AandII_B() {
        XCTAssertNoThrow(try MeetingRules.checkMayConvene(president, form: .consultationMeeting))
        XCTAssertThrowsError(try MeetingRules.checkMayConvene(member, form: .consultationMeeting)) { error in
            XCTAssertEqual((error as? RuleViolation)?.kind, .permissionDenied)
            XCTAssertTrue("\(error)".contains("II.B.1"))
        }
        XCTAssertThrowsError(try MeetingRules.checkMayConvene(president, form: .secretariatMeeting))
        XCTAssertNoThrow(try MeetingRules.checkMayConvene(secretariat, form: .secretariatMeeting))
        XCTAssertNoThrow(try MeetingRules.checkMayConvene(member, form: .otherConsultation))
        XCTAssertThrowsError(try MeetingRules.checkMayConvene(troops, form: .otherConsultation))
    }

    func testSummaryMustBeCirculatedBeforeCouncilDiscussion() {
        let earlier = [MeetingRules.EarlierMeeting(id: "mtg-1", form: .consultationMeeting, scheduledAt: 100, summary: .prepared)]
        XCTAssertThrowsError(try MeetingRules.checkSummariesCirculated(form: .councilMeeting, scheduledAt: 200, earlier: earlier,
                                                                       caller: president, overrideReason: nil)) { error in
            XCTAssertEqual((error as? RuleViolation)?.kind, .failedPrecondition)
            XCTAssertTrue("\(error)".contains("mtg-1") && "\(error)".contains("II.B.6"))
        }
        // A later contributors' meeting does not block; nor does a circulated summary; the President may override.
        XCTAssertNoThrow(try MeetingRules.checkSummariesCirculated(form: .councilMeeting, scheduledAt: 50, earlier: earlier,
                                                                   caller: president, overrideReason: nil))
        XCTAssertNoThrow(try MeetingRules.checkSummariesCirculated(form: .councilConsultations, scheduledAt: 200,
            earlier: [MeetingRules.EarlierMeeting(id: "mtg-1", form: .consultationMeeting, scheduledAt: 100, summary: .circulated)],
            caller: president, overrideReason: nil))
        XCTAssertNoThrow(try MeetingRules.checkSummariesCirculated(form: .councilMeeting, scheduledAt: 200, earlier: earlier,
                                                                   caller: president, overrideReason: "rapid deterioration"))
        XCTAssertNoThrow(try MeetingRules.checkSummariesCirculated(form: .secretariatMeeting, scheduledAt: 200, earlier: earlier,
                                                                   caller: secretariat, overrideReason: nil))
    }

    func testObserversCannotSpeakAndOnlyPersonnelContributorsRequest() {
        XCTAssertThrowsError(try MeetingRules.checkMayMakeStatement(role: .observer, category: .hostCountryObserver)) {
            XCTAssertTrue("\($0)".contains("II.B.3(f)"))
        }
        XCTAssertNoThrow(try MeetingRules.checkMayMakeStatement(role: .participant, category: .troopPoliceContributor))
        XCTAssertNoThrow(try RequestRules.checkMayRequest(troops, facts: facts, operationID: "op-1", form: .consultationMeeting))
        XCTAssertThrowsError(try RequestRules.checkMayRequest(donor, facts: facts, operationID: "op-1", form: .consultationMeeting))
        XCTAssertThrowsError(try RequestRules.checkMayRequest(troops, facts: facts, operationID: "op-1", form: .secretariatMeeting))
    }

    func testInformalPaperIsRequiredForConsultationMeetings() {
        XCTAssertThrowsError(try MeetingRules.checkInformalPaper(form: .consultationMeeting, agenda: "  ")) {
            XCTAssertTrue("\($0)".contains("II.B.5(a)"))
        }
        XCTAssertNoThrow(try MeetingRules.checkInformalPaper(form: .consultationMeeting, agenda: "1. Renewal"))
        XCTAssertNoThrow(try MeetingRules.checkInformalPaper(form: .secretariatMeeting, agenda: nil))
    }
}
