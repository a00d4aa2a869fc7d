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
}
