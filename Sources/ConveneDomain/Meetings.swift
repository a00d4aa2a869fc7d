/// The forms of consultation of Annex II, and the Council's own discussion.
public enum MeetingForm: Int, Sendable, CaseIterable, Codable {
    /// II.A: public or private Council meeting with contributor participation.
    case councilMeeting = 1
    /// II.B: consultation meeting with contributors, chaired by the Council President.
    case consultationMeeting = 2
    /// II.C: Secretariat meeting with contributors.
    case secretariatMeeting = 3
    /// II.D: other forms of consultation.
    case otherConsultation = 4
    /// The Council members' own informal consultations (II.B.5(b), II.B.6).
    case councilConsultations = 5
    /// I.B.3: evaluation meeting convened by the Secretariat, for lessons learned.
    case evaluation = 6

    public var provision: String {
        switch self {
        case .councilMeeting: "II.A"
        case .consultationMeeting: "II.B"
        case .secretariatMeeting: "II.C"
        case .otherConsultation: "II.D"
        case .councilConsultations: "II.B.6"
        case .evaluation: "I.B.3"
        }
    }

    /// The form in the resolution's words, for messages.
    public var name: String {
        switch self {
        case .councilMeeting: "public or private meetings of the Security Council with troop-contributing countries (II.A)"
        case .consultationMeeting: "consultation meetings with troop-contributing countries (II.B)"
        case .secretariatMeeting: "meetings between the Secretariat and troop-contributing countries (II.C)"
        case .otherConsultation: "other forms of consultation (II.D)"
        case .councilConsultations: "the Council members' own informal consultations (II.B.5(b), II.B.6)"
        case .evaluation: "assessment meetings for lessons learned (I.B.3)"
        }
    }

    /// Council discussion that a contributors' meeting's summary must precede (II.B.6).
    public var isCouncilDiscussion: Bool { self == .councilMeeting || self == .councilConsultations }
}

/// II.B.2(a)-(g).
public enum Stage: Int, Sendable, CaseIterable, Codable {
    case missionPlanning = 1, mandateChange, mandateRenewal, significantDevelopments, rapidDeterioration,
         termination, councilMission

    public var provision: String { "II.B.2(\(["a", "b", "c", "d", "e", "f", "g"][rawValue - 1]))" }
}

/// The II.B.3 categories, plus the Council and the Secretariat themselves.
public enum InvitationCategory: Int, Sendable, CaseIterable, Codable {
    case troopPoliceContributor = 1     // (a)
    case potentialContributor = 2       // (b)
    case unBodyOrAgency = 3             // (c)
    case otherBodyObserver = 4          // (d)
    case specificContributor = 5        // (e)
    case hostCountryObserver = 6        // (f)
    case regionalTroopContributor = 7   // (g)
    case regionalObserver = 8           // (h)
    case council = 9
    case secretariat = 10
    /// II.D: "other particularly affected countries, including countries of the region", as appropriate.
    case particularlyAffectedCountry = 11

    public var provision: String {
        switch self {
        case .troopPoliceContributor: "II.B.3(a)"
        case .potentialContributor: "II.B.3(b)"
        case .unBodyOrAgency: "II.B.3(c)"
        case .otherBodyObserver: "II.B.3(d)"
        case .specificContributor: "II.B.3(e)"
        case .hostCountryObserver: "II.B.3(f)"
        case .regionalTroopContributor: "II.B.3(g)"
        case .regionalObserver: "II.B.3(h)"
        case .council: "II.B.1"
        case .secretariat: "II.B.6"
        case .particularlyAffectedCountry: "II.D"
        }
    }

    /// The categories a party holds by a role (a Council seat, the Secretariat's staff): they
    /// go with the role. A party invited in one speaks there only while it holds the role,
    /// loses its invitations to meetings not held yet when it loses the role, and owes an
    /// operation's records to the role, not to the invitation (`AccessRules`).
    public static let heldByRole: [InvitationCategory] = [.council, .secretariat]

    /// Whether `party` still holds the role the category invites (every category but those
    /// `heldByRole` is held whatever the party's roles).
    public func isHeld(by party: Party) -> Bool {
        switch self {
        case .council: party.isCouncilMember
        case .secretariat: party.isSecretariat
        default: true
        }
    }

    /// (d), (f) and (h) attend only as observers.
    public var observerOnly: Bool {
        self == .otherBodyObserver || self == .hostCountryObserver || self == .regionalObserver
    }

    /// Who the category invites, in the resolution's words.
    public var name: String {
        switch self {
        case .troopPoliceContributor: "countries contributing troops, military observers or civilian police to the operation"
        case .potentialContributor: "potential troop-contributing countries identified by the Secretary-General"
        case .unBodyOrAgency: "United Nations bodies and agencies that can contribute specifically to the discussion"
        case .otherBodyObserver: "other bodies and agencies, as observers"
        case .specificContributor: "countries making specific contributions"
        case .hostCountryObserver: "the host country, as observer"
        case .regionalTroopContributor: "regional or subregional organizations or arrangements contributing troops"
        case .regionalObserver: "regional organizations not contributing troops, as observers"
        case .council: "the Council President and members"
        case .secretariat: "the Secretariat"
        case .particularlyAffectedCountry: "other particularly affected countries, including countries of the region"
        }
    }
}

public enum ParticipationRole: Int, Sendable, Codable {
    case participant = 1
    case observer = 2
}

public struct ProposedInvitation: Sendable, Hashable {
    public var partyID: Int64
    public var category: InvitationCategory
    public var role: ParticipationRole
    public var required: Bool
    /// Why the party falls in its category, citing the provisions (shown to the convener).
    public var reason: String

    public init(partyID: Int64, category: InvitationCategory, role: ParticipationRole, required: Bool, reason: String = "") {
        self.partyID = partyID
        self.category = category
        self.role = role
        self.required = required
        self.reason = reason
    }
}

public enum MeetingStatus: Int, Sendable, Codable {
    case convened = 1
    case held = 2
}

/// A meeting's summary (II.B.6): prepared by the President with the Secretariat, then circulated.
public enum SummaryStatus: Int, Sendable, Codable {
    case notPrepared = 1
    case prepared = 2
    case circulated = 3
}

/// A contributor's request for a meeting (II.A.1, II.B.2), until the President decides on it.
public enum RequestStatus: Int, Sendable, Codable, CaseIterable {
    case pending = 1
    case convenedAsRequested = 2
    case declined = 3
}
