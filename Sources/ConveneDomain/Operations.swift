/// The phase of a peacekeeping operation; an operation only moves forward through them.
public enum Phase: Int, Sendable, Codable, Comparable {
    /// Mission planning, concept of operations, drafting of the mandate (II.B.2(a)).
    case planning = 1
    case deployed = 2
    /// Termination, withdrawal or scaling down (II.B.2(f)).
    case drawdown = 3
    case terminated = 4

    public static func < (a: Phase, b: Phase) -> Bool { a.rawValue < b.rawValue }
}

/// What a party contributes to an operation.
public enum ContributionKind: Int, Sendable, CaseIterable, Codable {
    case troops = 1
    case militaryObservers = 2
    case civilianPolice = 3
    case otherCivilianPersonnel = 4
    case trustFund = 5
    case logistics = 6
    case equipment = 7
    case facilities = 8
    case other = 9

    /// Contributors of these are always invited (II.B.3(a)).
    public var makesTroopOrPoliceContributor: Bool {
        self == .troops || self == .militaryObservers || self == .civilianPolice
    }

    /// Personnel: the annexes apply to contributors of troops, civilian police and other
    /// personnel alike (preamble), so these may request meetings (II.A.1, II.B.2).
    public var isPersonnel: Bool { makesTroopOrPoliceContributor || self == .otherCivilianPersonnel }

    /// In the resolution's words (II.B.3(a), (e)).
    public var name: String {
        switch self {
        case .troops: "troops"
        case .militaryObservers: "military observers"
        case .civilianPolice: "civilian police"
        case .otherCivilianPersonnel: "other civilian personnel"
        case .trustFund: "trust fund contributions"
        case .logistics: "logistics"
        case .equipment: "equipment"
        case .facilities: "facilities"
        case .other: "other contributions"
        }
    }

    /// Kinds in their order, in words: "troops, logistics and facilities".
    public static func list(_ kinds: Set<ContributionKind>) -> String {
        let names = kinds.sorted { $0.rawValue < $1.rawValue }.map(\.name)
        guard names.count > 1 else { return names.first ?? "nothing" }
        return names.dropLast().joined(separator: ", ") + " and " + names[names.count - 1]
    }
}

public struct Contribution: Sendable, Hashable {
    public var partyID: Int64
    public var kind: ContributionKind
    public var quantity: Int64

    public init(partyID: Int64, kind: ContributionKind, quantity: Int64) {
        self.partyID = partyID
        self.kind = kind
        self.quantity = quantity
    }
}

/// What the invitation rules need to know of an operation.
public struct OperationFacts: Sendable {
    public var hostCountryID: Int64?
    public var potentialContributorIDs: Set<Int64>
    public var contributions: [Contribution]

    public init(hostCountryID: Int64?, potentialContributorIDs: Set<Int64>, contributions: [Contribution]) {
        self.hostCountryID = hostCountryID
        self.potentialContributorIDs = potentialContributorIDs
        self.contributions = contributions
    }

    public func contributes(_ partyID: Int64, where predicate: (ContributionKind) -> Bool = { _ in true }) -> Bool {
        contributions.contains { $0.partyID == partyID && predicate($0.kind) }
    }

    /// Whether `party` is one of the operation's troop-contributing countries: a country or a
    /// regional or subregional organization (`PartyKind.contributesAsCountry`) contributing
    /// troops, military observers, civilian police or other personnel. What a UN body or
    /// agency or another body sends does not make it one (II.B.3(c), (d)).
    public func isTroopContributor(_ party: Party) -> Bool {
        party.kind.contributesAsCountry && contributes(party.id, where: \.isPersonnel)
    }
}
