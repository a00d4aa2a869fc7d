// Rows of the briefing and lessons-learned services (schema v2).

public struct ReportRecord: Codable, Sendable {
    public var id: Int64?
    public var operationID: Int64
    public var symbol: String
    public var title: String
    public var text: String
    public var requestedByCouncil: Bool
    public var publishedAt: Int64
    public var meetingID: Int64?
    public var distributedAt: Int64?
    public var flags: [String]
    public var lateReason: String?

    public init(operationID: Int64, symbol: String, title: String, text: String, requestedByCouncil: Bool, publishedAt: Int64) {
        self.operationID = operationID
        self.symbol = symbol
        self.title = title
        self.text = text
        self.requestedByCouncil = requestedByCouncil
        self.publishedAt = publishedAt
        self.flags = []
    }
}

public struct FactSheetRecord: Codable, Sendable {
    public var id: Int64?
    public var meetingID: Int64
    public var title: String
    public var content: String
    /// The parties it was handed to: every invitee at issue time.
    public var recipients: [Int64]
    public var issuedAt: Int64

    public init(meetingID: Int64, title: String, content: String, recipients: [Int64], issuedAt: Int64) {
        self.meetingID = meetingID
        self.title = title
        self.content = content
        self.recipients = recipients
        self.issuedAt = issuedAt
    }
}

public struct AttachmentRecord: Codable, Sendable {
    public var id: Int64?
    public var meetingID: Int64
    public var fileName: String
    public var contentType: String
    public var size: Int64
    public var sha256: String
    /// False while chunks are still arriving; an incomplete upload is never shown.
    public var complete: Bool
    public var uploadedBy: Int64
    public var createdAt: Int64

    public init(meetingID: Int64, fileName: String, contentType: String, uploadedBy: Int64, createdAt: Int64) {
        self.meetingID = meetingID
        self.fileName = fileName
        self.contentType = contentType
        self.size = 0
        self.sha256 = ""
        self.complete = false
        self.uploadedBy = uploadedBy
        self.createdAt = createdAt
    }
}

public struct BriefingRecordRow: Codable, Sendable {
    public var id: Int64?
    public var meetingID: Int64
    public var brieferName: String
    public var brieferRole: Int
    public var unavailableReason: String
    public var political: String
    public var military: String
    public var humanitarian: String
    public var humanRights: String
    public var notAssessed: [String]
    public var attachmentIDs: [Int64]
    public var givenAt: Int64

    public init(meetingID: Int64, brieferName: String, brieferRole: Int, unavailableReason: String, political: String,
                military: String, humanitarian: String, humanRights: String, notAssessed: [String],
                attachmentIDs: [Int64], givenAt: Int64) {
        self.meetingID = meetingID
        self.brieferName = brieferName
        self.brieferRole = brieferRole
        self.unavailableReason = unavailableReason
        self.political = political
        self.military = military
        self.humanitarian = humanitarian
        self.humanRights = humanRights
        self.notAssessed = notAssessed
        self.attachmentIDs = attachmentIDs
        self.givenAt = givenAt
    }
}

public struct AdviceOptionRecord: Codable, Sendable, Hashable {
    public var title: String
    public var analysis: String

    public init(title: String, analysis: String) {
        self.title = title
        self.analysis = analysis
    }
}

public struct AdviceRecord: Codable, Sendable {
    public var id: Int64?
    public var operationID: Int64
    public var question: String
    public var options: [AdviceOptionRecord]
    public var submittedAt: Int64

    public init(operationID: Int64, question: String, options: [AdviceOptionRecord], submittedAt: Int64) {
        self.operationID = operationID
        self.question = question
        self.options = options
        self.submittedAt = submittedAt
    }
}

public struct ExperienceRecord: Codable, Sendable {
    public var id: Int64?
    public var operationID: Int64
    public var partyID: Int64
    public var period: Int
    public var title: String
    public var contingent: String
    public var text: String
    public var submittedAt: Int64

    public init(operationID: Int64, partyID: Int64, period: Int, title: String, contingent: String, text: String, submittedAt: Int64) {
        self.operationID = operationID
        self.partyID = partyID
        self.period = period
        self.title = title
        self.contingent = contingent
        self.text = text
        self.submittedAt = submittedAt
    }
}

public struct LessonRecord: Codable, Sendable {
    public var id: Int64?
    public var operationID: Int64
    public var stage: Int
    public var finding: String
    public var recommendation: String
    public var topics: [String]
    public var sourceID: String
    public var recordedAt: Int64

    public init(operationID: Int64, stage: Int, finding: String, recommendation: String, topics: [String],
                sourceID: String, recordedAt: Int64) {
        self.operationID = operationID
        self.stage = stage
        self.finding = finding
        self.recommendation = recommendation
        self.topics = topics
        self.sourceID = sourceID
        self.recordedAt = recordedAt
    }
}
