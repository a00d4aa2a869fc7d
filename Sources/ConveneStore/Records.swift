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

    public init(kind: Int, description: String, raisedByPartyID: Int64?) {
        self.kind = kind
        self.description = description
        self.raisedByPartyID = raisedByPartyID
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
    }
}

public struct InvitationRecord: Codable, Sendable, Hashable {
    public var meetingID: Int64
    public var partyID: Int64
    public var category: Int
    public var role: Int
    public var required: Bool

    public init(meetingID: Int64, invitation: ProposedInvitation) {
        self.meetingID = meetingID
        self.partyID = invitation.partyID
        self.category = invitation.category.rawValue
        self.role = invitation.role.rawValue
        self.required = invitation.required
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
    /// Who may see it: 0 for everyone who may see the operation, else a meeting id whose invitees may.
    public var meetingID: Int64?
    public var time: Int64

    public init(operationID: Int64, kind: String, subjectID: String, description: String, meetingID: Int64?, time: Int64) {
        self.operationID = operationID
        self.kind = kind
        self.subjectID = subjectID
        self.description = description
        self.meetingID = meetingID
        self.time = time
    }
}
