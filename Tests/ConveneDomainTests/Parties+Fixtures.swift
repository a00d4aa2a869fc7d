import ConveneDomain

/// The parties the rule tests use.
enum Parties {
    static let president = Party(id: 1, name: "President", kind: .memberState, roles: [.councilPresident])
    static let member = Party(id: 2, name: "Council member", kind: .memberState, roles: [.councilMember])
    static let secretariat = Party(id: 3, name: "Secretariat", kind: .secretariat, roles: [.secretariatStaff])
    static let administrator = Party(id: 4, name: "Administrator", kind: .otherBody, roles: [.administrator])
    static let troops = Party(id: 10, name: "Troop contributor", kind: .memberState, roles: [])
    static let observers = Party(id: 11, name: "Observer contributor", kind: .memberState, roles: [])
    static let civilians = Party(id: 12, name: "Civilian contributor", kind: .memberState, roles: [])
    static let donor = Party(id: 15, name: "Donor", kind: .memberState, roles: [])
    static let agency = Party(id: 13, name: "UN agency", kind: .unAgency, roles: [])

    static let facts = OperationFacts(hostCountryID: nil, potentialContributorIDs: [], contributions: [
        Contribution(partyID: troops.id, kind: .troops, quantity: 800),
        Contribution(partyID: observers.id, kind: .militaryObservers, quantity: 20),
        Contribution(partyID: civilians.id, kind: .otherCivilianPersonnel, quantity: 40),
        Contribution(partyID: donor.id, kind: .trustFund, quantity: 2_000_000),
    ])

    /// `facts` with the UN agency sending staff of its own (other civilian personnel): no
    /// troop-contributing country for that (II.B.3(c)).
    static var factsWithAgencyStaff: OperationFacts {
        var facts = facts
        facts.contributions.append(Contribution(partyID: agency.id, kind: .otherCivilianPersonnel, quantity: 12))
        return facts
    }
}

/// The provision a rule's refusal cites, and its kind.
func refusal(_ body: () throws -> Void) -> RuleViolation? {
    do {
        try body()
        return nil
    } catch {
        return error as? RuleViolation
    }
}
