/// Every kind of event the services record on an operation's log: what `WatchOperation`
/// streams and what plugins subscribe to. A service can only record a kind listed here, so
/// this list (printed by `convene plugins events` and in Docs/PLUGINS.md) cannot drift.
public enum OperationEventKind: String, CaseIterable, Sendable {
    case operationCreated = "operation.created"
    case mandateUpdated = "mandate.updated"
    case contributionRecorded = "contribution.recorded"
    case contributorIdentified = "contributor.identified"
    case meetingConvened = "meeting.convened"
    case meetingHeld = "meeting.held"
    case statementRecorded = "statement.recorded"
    case concernRaised = "concern.raised"
    case concernAnswered = "concern.answered"
    case meetingRequested = "meeting.requested"
    case meetingRequestDeclined = "meeting.request_declined"
    case summaryPrepared = "summary.prepared"
    case summaryCirculated = "summary.circulated"
    case reportPublished = "report.published"
    case reportDistributed = "report.distributed"
    case reportDistributedLate = "report.distributed_late"
    case factSheetIssued = "factsheet.issued"
    case briefingGiven = "briefing.given"
    case attachmentUploaded = "attachment.uploaded"
    case adviceSubmitted = "advice.submitted"
    case experienceSubmitted = "experience.submitted"
    case lessonRecorded = "lesson.recorded"

    /// What the event's `subject_id` names.
    public var subject: String {
        switch self {
        case .operationCreated, .mandateUpdated: "the operation (op-N)"
        case .contributionRecorded: "the contribution (contrib-N)"
        case .contributorIdentified: "the party identified (party-N)"
        case .meetingConvened, .meetingHeld, .summaryPrepared, .summaryCirculated: "the meeting (mtg-N)"
        case .statementRecorded, .concernRaised, .concernAnswered: "the statement (stmt-N)"
        case .meetingRequested, .meetingRequestDeclined: "the request (req-N)"
        case .reportPublished, .reportDistributed, .reportDistributedLate: "the report (report-N)"
        case .factSheetIssued: "the fact sheet (factsheet-N)"
        case .briefingGiven: "the briefing (briefing-N)"
        case .attachmentUploaded: "the attachment (att-N)"
        case .adviceSubmitted: "the advice (advice-N)"
        case .experienceSubmitted: "the experience (exp-N)"
        case .lessonRecorded: "the lesson (lesson-N)"
        }
    }

    /// The provision of resolution 1353 the event records the working of.
    public var provision: String {
        switch self {
        case .operationCreated: "I.A.7, II.B.2(a)"
        case .mandateUpdated: "II.B.2(c), (d), I.C.1"
        case .contributionRecorded: "II.B.3(a), (e), (g)"
        case .contributorIdentified: "II.A.2, II.B.3(b)"
        case .meetingConvened: "II.A, II.B.1, II.B.2, II.C, I.B.3"
        case .meetingHeld: "II.B.1"
        case .statementRecorded: "II.B.3"
        case .concernRaised, .concernAnswered: "II.B.4(d), I.B.2"
        case .meetingRequested, .meetingRequestDeclined: "II.B.4"
        case .summaryPrepared, .summaryCirculated: "II.B.6"
        case .reportPublished, .reportDistributed, .reportDistributedLate: "II.B.5(b)"
        case .factSheetIssued: "II.B.5(c)"
        case .briefingGiven: "II.B.5(d), (e)"
        case .attachmentUploaded: "II.B.5(f)"
        case .adviceSubmitted: "I.B.9"
        case .experienceSubmitted: "I.B.4"
        case .lessonRecorded: "I.B.3"
        }
    }
}
