/// What a party is; decides the II.B.3 categories it can fall in.
public enum PartyKind: Int, Sendable, CaseIterable {
    case memberState = 1
    case unBody = 2
    case unAgency = 3
    case regionalOrganization = 4
    case subregionalOrganization = 5
    case secretariat = 6
    case otherBody = 7
    /// A plugin's own principal (its party, "Plugin NAME"): acts and is recorded on what it
    /// writes, but is never a participant in or invitee to a meeting.
    case plugin = 8

    /// Whether personnel from a party of this kind makes it a troop-contributing country: a
    /// country (II.B.3(a); the preamble extends the annexes to countries contributing police
    /// and other personnel) or a regional or subregional organization contributing troops
    /// (II.B.3(g)). A UN body or agency, another body, the Secretariat or a plugin that sends
    /// personnel is none: it takes part as II.B.3(c) or (d) says.
    public var contributesAsCountry: Bool {
        switch self {
        case .memberState, .regionalOrganization, .subregionalOrganization: true
        case .unBody, .unAgency, .secretariat, .otherBody, .plugin: false
        }
    }
}

/// What a party may do beyond what its contributions give it.
public enum Role: Int, Sendable, CaseIterable {
    /// Convenes and chairs II.A and II.B meetings (II.B.1); circulates summaries (II.B.6).
    case councilPresident = 1
    /// Receives summaries (II.B.6).
    case councilMember = 2
    /// Convenes II.C and evaluation meetings (I.B.3); publishes reports and briefings (II.B.5).
    case secretariatStaff = 3
    /// Registers parties, issues and revokes credentials.
    case administrator = 4
    /// Operates the server: may run load tests (the benchmark service); no part in the consultations.
    case serverOperator = 5
}

public struct Party: Sendable, Hashable {
    public var id: Int64
    public var name: String
    public var kind: PartyKind
    public var roles: Set<Role>

    public init(id: Int64, name: String, kind: PartyKind, roles: Set<Role>) {
        self.id = id
        self.name = name
        self.kind = kind
        self.roles = roles
    }

    public var isPresident: Bool { roles.contains(.councilPresident) }
    public var isCouncilMember: Bool { roles.contains(.councilMember) || roles.contains(.councilPresident) }
    public var isSecretariat: Bool { roles.contains(.secretariatStaff) }
    public var isAdministrator: Bool { roles.contains(.administrator) }
    public var isOperator: Bool { roles.contains(.serverOperator) }

    /// Whether the party is one of the consultations' parties at all: an administrator, a mechanism
    /// plugin's principal and an account that only operates the server (the operator role and no
    /// Council or Secretariat role, whatever its kind) are not, and are never invited.
    public var takesPartInConsultations: Bool {
        if isAdministrator || kind == .plugin { return false }
        return !isOperator || isCouncilMember || isSecretariat
    }
}
