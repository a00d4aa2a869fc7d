import ConveneDomain

// Rows of the store. Times are milliseconds since 1970 (UTC). Ids are SQLite rowids;
// the services present them with a prefix ("op-3").

public struct PartyRecord: Codable, Sendable, Hashable {
    public var id: Int64?
    public var name: String
    public var kind: Int
    /// Role raw values, comma-separated, e.g. "1,2".
    public var roles: String

    public init(id: Int64? = nil, name: String, kind: PartyKind, roles: Set<Role>) {
        self.id = id
        self.name = name
        self.kind = kind.rawValue
        self.roles = roles.map { String($0.rawValue) }.sorted().joined(separator: ",")
    }

    public var party: Party {
        Party(id: id ?? 0, name: name, kind: PartyKind(rawValue: kind) ?? .otherBody,
              roles: Set(roles.split(separator: ",").compactMap { Int($0).flatMap(Role.init(rawValue:)) }))
    }
}

public struct CredentialRecord: Codable, Sendable {
    public var id: Int64?
    public var partyID: Int64
    /// SHA-256 of the token, hex.
    public var tokenHash: String
    public var label: String
    public var createdAt: Int64
    public var revokedAt: Int64?

    public init(partyID: Int64, tokenHash: String, label: String, createdAt: Int64) {
        self.partyID = partyID
        self.tokenHash = tokenHash
        self.label = label
        self.createdAt = createdAt
    }
}

public struct OperationRecord: Codable, Sendable {
    public var id: Int64?
    public var name: String
    public var mandate: String
    public var useOfForce: String
    public var phase: Phase
    public var hostCountryID: Int64?
    public var createdAt: Int64
    public var version: Int64

    public init(name: String, mandate: String, useOfForce: String, phase: Phase, hostCountryID: Int64?, createdAt: Int64) {
        self.name = name
        self.mandate = mandate
        self.useOfForce = useOfForce
        self.phase = phase
        self.hostCountryID = hostCountryID
        self.createdAt = createdAt
        self.version = 1
    }
}

public struct ContributionRecord: Codable, Sendable {
    public var id: Int64?
    public var operationID: Int64
    public var partyID: Int64
    public var kind: Int
    public var quantity: Int64
    public var description: String

    public init(operationID: Int64, partyID: Int64, kind: ContributionKind, quantity: Int64, description: String) {
        self.operationID = operationID
        self.partyID = partyID
        self.kind = kind.rawValue
        self.quantity = quantity
        self.description = description
    }

    public var contribution: Contribution {
        Contribution(partyID: partyID, kind: ContributionKind(rawValue: kind) ?? .other, quantity: quantity)
    }
}

public struct TopicRecord: Codable, Sendable, Hashable {
    public var kind: Int
    public var description: String
    public var raisedByPartyID: Int64?
    /// The request whose concern the topic is (II.B.4(d)); absent in rows written before v4.
    public var requestID: Int64?

    public init(kind: Int, description: String, raisedByPartyID: Int64?, requestID: Int64? = nil) {
        self.kind = kind
        self.description = description
        self.raisedByPartyID = raisedByPartyID
        self.requestID = requestID
    }
}

public struct DocumentRecord: Codable, Sendable, Hashable {
    public var title: String
    public var reference: String
    public var lessonID: Int64?

    public init(title: String, reference: String, lessonID: Int64?) {
        self.title = title
        self.reference = reference
        self.lessonID = lessonID
    }
}

public struct PaperRecord: Codable, Sendable, Hashable {
    public var agenda: String
    public var issues: [String]
    public var backgroundDocuments: [DocumentRecord]

    public init(agenda: String, issues: [String], backgroundDocuments: [DocumentRecord]) {
        self.agenda = agenda
        self.issues = issues
        self.backgroundDocuments = backgroundDocuments
    }
}

public struct MeetingRecord: Codable, Sendable {
    public var id: Int64?
    public var operationID: Int64
    public var form: MeetingForm
    public var isPublic: Bool
    public var stage: Stage?
    public var requestID: Int64?
    public var scheduledAt: Int64
    public var convenedBy: Int64
    public var status: MeetingStatus
    public var topics: [TopicRecord]
    public var paper: PaperRecord?
    public var missionOfficials: [Int]
    public var summaryOverrideReason: String?
    public var createdAt: Int64
    /// Why a meeting that took place outside the system was recorded after the fact (v4).
    public var pastReason: String?
    /// The Council-requested report it discusses (II.B.5(b), v4).
    public var reportID: Int64?
    /// The II.B.5(b) order rules its time breaks, and why it was convened anyway (v4).
    public var flags: [String]
    public var lateReason: String?

    public init(operationID: Int64, form: MeetingForm, isPublic: Bool, stage: Stage?, requestID: Int64?,
                scheduledAt: Int64, convenedBy: Int64, topics: [TopicRecord], paper: PaperRecord?,
                missionOfficials: [Int], summaryOverrideReason: String?, createdAt: Int64) {
        self.operationID = operationID
        self.form = form
        self.isPublic = isPublic
        self.stage = stage
        self.requestID = requestID
        self.scheduledAt = scheduledAt
        self.convenedBy = convenedBy
        self.status = .convened
        self.topics = topics
        self.paper = paper
        self.missionOfficials = missionOfficials
        self.summaryOverrideReason = summaryOverrideReason
        self.createdAt = createdAt
        self.flags = []
    }
}

public struct InvitationRecord: Codable, Sendable, Hashable {
    public var meetingID: Int64
    public var partyID: Int64
    public var category: Int
    public var role: Int
    public var required: Bool
    /// Why the party fell in its category when invited (v4).
    public var reason: String

    public init(meetingID: Int64, invitation: ProposedInvitation) {
        self.meetingID = meetingID
        self.partyID = invitation.partyID
        self.category = invitation.category.rawValue
        self.role = invitation.role.rawValue
        self.required = invitation.required
        self.reason = invitation.reason
    }
}

public struct StatementRecord: Codable, Sendable {
    public var id: Int64?
    public var meetingID: Int64
    public var partyID: Int64
    public var text: String
    public var concern: Bool
    public var response: String?
    public var respondedBy: Int64?
    public var createdAt: Int64

    public init(meetingID: Int64, partyID: Int64, text: String, concern: Bool, createdAt: Int64) {
        self.meetingID = meetingID
        self.partyID = partyID
        self.text = text
        self.concern = concern
        self.createdAt = createdAt
    }
}

public struct MeetingRequestRecord: Codable, Sendable {
    public var id: Int64?
    public var operationID: Int64
    public var requestedBy: Int64
    public var form: MeetingForm
    public var reason: String
    public var concerns: [String]
    public var status: RequestStatus
    public var meetingID: Int64?
    public var declineReason: String?
    public var createdAt: Int64

    public init(operationID: Int64, requestedBy: Int64, form: MeetingForm, reason: String, concerns: [String], createdAt: Int64) {
        self.operationID = operationID
        self.requestedBy = requestedBy
        self.form = form
        self.reason = reason
        self.concerns = concerns
        self.status = .pending
        self.createdAt = createdAt
    }
}

public struct SummaryRecord: Codable, Sendable {
    public var meetingID: Int64
    public var text: String
    public var status: SummaryStatus
    public var preparedBy: Int64
    public var preparedAt: Int64
    public var circulatedAt: Int64?

    public init(meetingID: Int64, text: String, preparedBy: Int64, preparedAt: Int64) {
        self.meetingID = meetingID
        self.text = text
        self.status = .prepared
        self.preparedBy = preparedBy
        self.preparedAt = preparedAt
    }
}

public struct EventRecord: Codable, Sendable {
    public var sequence: Int64?
    public var operationID: Int64
    public var kind: String
    public var subjectID: String
    public var description: String
    /// The meeting it is about, if any: then its invitees (with the President and the Secretariat) receive it.
    public var meetingID: Int64?
    public var time: Int64
    /// Who else decides who receives it (v4): `Audience`'s raw value, and the party it names.
    public var audience: Int
    public var audiencePartyID: Int64?

    /// How `audience` is stored.
    public enum Audience: Int, Sendable {
        /// The operation's parties, or the meeting's when `meetingID` is set.
        case operation = 0
        case request = 1
        case advice = 2
        case experience = 3
        /// The Council, the Secretariat and `audiencePartyID` (a plugin's event).
        case councilSecretariatAndParty = 4
        /// The Council, the Secretariat and the operation's contributors (a plugin's event).
        case contributors = 5
        /// No one (never written by this version; what an unknown value is read as).
        case nobody = 6
    }

    public init(operationID: Int64, kind: String, subjectID: String, description: String, meetingID: Int64?, time: Int64,
                audience: EventAudience? = nil) {
        self.operationID = operationID
        self.kind = kind
        self.subjectID = subjectID
        self.description = description
        self.time = time
        self.meetingID = meetingID
        self.audience = Audience.operation.rawValue
        switch audience {
        case .meeting(let id)?: self.meetingID = id
        case .request(let party)?: (self.audience, audiencePartyID) = (Audience.request.rawValue, party)
        case .advice?: self.audience = Audience.advice.rawValue
        case .experience(let party)?: (self.audience, audiencePartyID) = (Audience.experience.rawValue, party)
        case .councilSecretariatAnd(let party)?: (self.audience, audiencePartyID) = (Audience.councilSecretariatAndParty.rawValue, party)
        case .contributors?: self.audience = Audience.contributors.rawValue
        case .nobody?: self.audience = Audience.nobody.rawValue
        case .operation?, nil: break
        }
    }

    /// Who receives it (the same rule as the read method that shows its subject).
    public var eventAudience: EventAudience {
        switch Audience(rawValue: audience) {
        case .request: .request(requestedBy: audiencePartyID ?? 0)
        case .advice: .advice
        case .experience: .experience(submittedBy: audiencePartyID ?? 0)
        case .councilSecretariatAndParty: .councilSecretariatAnd(party: audiencePartyID ?? 0)
        case .contributors: .contributors
        // One a later version wrote (a rollback, a cluster mid-upgrade): shown to no one, not to everyone.
        case .nobody, nil: .nobody
        case .operation: meetingID.map(EventAudience.meeting) ?? .operation
        }
    }
}

/// A party's term as Council President (II.B.1), recorded with its dates (v4).
public struct PresidencyRecord: Codable, Sendable {
    public var id: Int64?
    public var partyID: Int64
    public var startedAt: Int64
    public var endedAt: Int64?

    public init(partyID: Int64, startedAt: Int64) {
        self.partyID = partyID
        self.startedAt = startedAt
    }
}
