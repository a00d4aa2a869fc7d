/// Contributors' requests for meetings (II.A.1, II.B.2) and the President's decision on them (II.B.1).
public enum RequestRules {
    /// A troop-contributing country (`OperationFacts.isTroopContributor`) may request a II.A or
    /// II.B meeting on an operation it contributes personnel to.
    public static func checkMayRequest(_ caller: Party, facts: OperationFacts, operationID: String,
                                       form: MeetingForm) throws(RuleViolation) {
        guard form == .councilMeeting || form == .consultationMeeting else {
            throw RuleViolation(.invalidArgument,
                "form: troop-contributing countries request Council meetings (II.A.1) or consultation meetings (II.B.2), not \(form.name)")
        }
        guard facts.isTroopContributor(caller) else {
            let kind = caller.kind.contributesAsCountry ? "" : "; \(caller.name) is \(caller.kind.name), which attends as II.B.3(c) or (d) says"
            throw RuleViolation(.permissionDenied,
                "only a country (or a regional or subregional organization) contributing troops, military observers, civilian police or other personnel to operation \(operationID) requests a meeting on it (II.A.1, II.B.2)\(kind)")
        }
    }

    /// No meeting is requested on a terminated operation: none could be convened on it (M23).
    public static func checkRequestable(phase: Phase, operationID: String) throws(RuleViolation) {
        guard phase != .terminated else {
            throw RuleViolation(.failedPrecondition,
                "operation \(operationID) is terminated; a meeting requested on it could not be convened (II.A.1, II.B.2)")
        }
    }

    /// II.B.1: the President decides on requests for meetings.
    public static func checkMayDecide(_ caller: Party) throws(RuleViolation) {
        guard caller.isPresident else {
            throw RuleViolation(.permissionDenied, "only the Council President decides on requests for meetings (II.B.1)")
        }
    }

    /// A request is decided on once.
    public static func checkPending(_ request: MeetingRequestFacts) throws(RuleViolation) {
        guard request.status == .pending else {
            throw RuleViolation(.failedPrecondition, "request \(request.id) is no longer pending: it was \(request.status.name)")
        }
    }

    /// II.B.4(d): the specific concerns a request raises become topics of the meeting convened at
    /// that request: each non-blank one, once.
    public static func concernTopics(_ concerns: [String]) -> [String] {
        var seen = Set<String>()
        return concerns.compactMap { concern in
            let text = concern.split(whereSeparator: \.isNewline).joined(separator: " ")
                .trimmingWhitespace
            guard !text.isEmpty, seen.insert(text.normalizedForComparison).inserted else { return nil }
            return text
        }
    }

    /// The requests a party sees: every one for the President and the Secretariat, else its own.
    public static func visible(_ caller: Party, requestedBy: Int64) -> Bool {
        MeetingRules.seesEveryMeeting(caller) || requestedBy == caller.id
    }
}

/// What the rules read of a request for a meeting.
public struct MeetingRequestFacts: Sendable {
    /// Its public id, for messages.
    public var id: String
    public var status: RequestStatus
    public var form: MeetingForm

    public init(id: String, status: RequestStatus, form: MeetingForm) {
        self.id = id
        self.status = status
        self.form = form
    }
}

extension RequestStatus {
    public var name: String {
        switch self {
        case .pending: "pending"
        case .convenedAsRequested: "convened as requested"
        case .declined: "declined"
        }
    }
}
