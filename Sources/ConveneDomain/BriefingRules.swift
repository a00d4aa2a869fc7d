/// Reports, fact sheets, briefings and advice (II.B.5(b)-(f), I.B.9).
public enum BriefingRules {
    /// Only the Secretariat publishes reports, fact sheets, briefings and advice (II.B.5, I.B.9).
    public static func checkMayPublish(_ caller: Party) throws(RuleViolation) {
        guard caller.isSecretariat else {
            throw RuleViolation(.permissionDenied,
                "only the Secretariat publishes reports, fact sheets, briefings and advice (II.B.5, I.B.9)")
        }
    }

    /// II.B.5(b): a report is distributed once...
    public static func checkNotDistributed(distributed: Bool, reportID: String) throws(RuleViolation) {
        guard !distributed else {
            throw RuleViolation(.failedPrecondition, "report \(reportID) was already distributed")
        }
    }

    /// ... for a consultation meeting with contributors on its operation.
    public static func checkDistributionMeeting(meetingOperation: String, reportOperation: String, form: MeetingForm,
                                                meetingID: String, reportID: String) throws(RuleViolation) {
        guard meetingOperation == reportOperation else {
            throw RuleViolation(.failedPrecondition,
                "meeting_id: \(meetingID) is on operation \(meetingOperation), and \(reportID) on \(reportOperation); a report goes to the meetings on its operation")
        }
        guard form == .consultationMeeting else {
            throw RuleViolation(.failedPrecondition,
                "meeting_id: reports are distributed for consultation meetings with troop-contributing countries (II.B.5(b)); \(meetingID) is one of the \(form.name)")
        }
    }

    /// A Council discussion of an operation, as the II.B.5(b) distribution rule sees it.
    public struct CouncilDiscussion: Sendable {
        public var id: String
        public var scheduledAt: Int64

        public init(id: String, scheduledAt: Int64) {
            self.id = id
            self.scheduledAt = scheduledAt
        }
    }

    /// II.B.5(b): what a distribution of a report for a contributors' meeting breaks, with the real
    /// figures (a shortfall is truncated, never rounded up to the rule).
    /// - Parameters:
    ///   - now, meetingAt: milliseconds since 1970.
    ///   - leadTime: how long before the meeting the report must reach the invited parties, in ms.
    ///   - councilDiscussions: the Council members' own discussions of the operation.
    public static func distributionFlags(now: Int64, meetingAt: Int64, leadTime: Int64,
                                         councilDiscussions: [CouncilDiscussion]) -> [String] {
        var flags: [String] = []
        let lead = meetingAt - now
        let rule = "the rule is \(TimeText.exact(leadTime)) before it (II.B.5(b): early distribution, so that the meeting comes before the Council members discuss the report)"
        if lead < leadTime {
            if lead > 0 {
                flags.append("distributed \(TimeText.truncated(lead)) before the contributors' meeting; \(rule)")
            } else if lead == 0 {
                flags.append("distributed at the time of the contributors' meeting; \(rule)")
            } else {
                flags.append("distributed \(TimeText.truncated(-lead)) after the contributors' meeting was scheduled (\(TimeText.date(meetingAt))); \(rule)")
            }
        }
        for discussion in councilDiscussions where discussion.scheduledAt >= now && discussion.scheduledAt <= meetingAt {
            flags.append("the Council members discuss the operation in \(discussion.id) on \(TimeText.date(discussion.scheduledAt)), before the contributors' meeting on \(TimeText.date(meetingAt)) (II.B.5(b))")
        }
        return flags
    }

    /// A distribution that breaks the rule goes ahead only with the reason why.
    /// - Returns: the late reason to record, nil when nothing was broken.
    public static func checkLateReason(flags: [String], reason: String?, action: String = "distribute") throws(RuleViolation) -> String? {
        guard !flags.isEmpty else { return nil }
        guard let reason, !reason.isBlank else {
            throw RuleViolation(.failedPrecondition, flags.joined(separator: "; ") + "; give late_reason to \(action) anyway")
        }
        return reason
    }

    /// How long after a meeting's scheduled time it may still be starting (a late start), so
    /// that a fact sheet handed out then is still one "at the start" (milliseconds).
    public static let factSheetStartGrace: Int64 = 60 * 60 * 1000

    /// II.B.5(c): a fact sheet is handed to the participants at the start of the meeting: by
    /// then (issued ahead, it is in their hands when the meeting starts), not once it is under
    /// way or over. A meeting that took place outside the system and is recorded after the fact
    /// (with its reason) has its record completed with the sheet handed out at its start.
    public static func checkFactSheetTiming(_ status: MeetingStatus, scheduledAt: Int64, now: Int64, recordedAfterTheFact: Bool,
                                            meetingID: String) throws(RuleViolation) {
        let rule = "fact sheets are handed to participants at the start of a meeting (II.B.5(c))"
        guard status == .convened else {
            throw RuleViolation(.failedPrecondition, "\(rule); \(meetingID) was already held")
        }
        guard recordedAfterTheFact || now <= scheduledAt + factSheetStartGrace else {
            throw RuleViolation(.failedPrecondition,
                "\(rule); \(meetingID) started at \(TimeText.date(scheduledAt)), \(TimeText.truncated(now - scheduledAt)) ago, after the start")
        }
    }

    /// II.B.5(c): whom a fact sheet was handed to: all the meeting's participants at its start.
    /// One issued ahead of the start goes to whoever is invited when the meeting starts (a
    /// party invited since it was issued, as a new contributor is, gets it too; one no longer
    /// invited does not), so its recipients are the invitations as they stand (`invitedNow`:
    /// a meeting under way or past keeps its invitations). One issued at the start, or with a
    /// meeting recorded after the fact, went to those invited then (`recordedAtIssue`).
    public static func factSheetRecipients(issuedAt: Int64, scheduledAt: Int64, recordedAtIssue: [Int64],
                                           invitedNow: [Int64]) -> [Int64] {
        issuedAt < scheduledAt ? invitedNow : recordedAtIssue
    }

    /// II.B.5(d): senior field-mission personnel brief as far as possible; anyone else needs a
    /// reason, and a senior field-mission briefer none (the record would say that the briefer
    /// giving it could not).
    public static func checkBriefer(isSeniorFieldMission: Bool, unavailableReason: String) throws(RuleViolation) {
        guard isSeniorFieldMission || !unavailableReason.isBlank else {
            throw RuleViolation(.failedPrecondition,
                "field_briefer_unavailable_reason: briefings are given by senior field-mission personnel as far as possible (II.B.5(d)); say why not")
        }
        guard !isSeniorFieldMission || unavailableReason.isBlank else {
            throw RuleViolation(.invalidArgument,
                "field_briefer_unavailable_reason: the briefer is senior field-mission personnel (II.B.5(d)); a reason why none could brief contradicts it")
        }
    }

    /// II.B.5(e): the dimensions an assessment leaves out; at least one must be assessed.
    public static func missingDimensions(political: String, military: String, humanitarian: String,
                                         humanRights: String) throws(RuleViolation) -> [String] {
        let dimensions = [("political", political), ("military", military), ("humanitarian", humanitarian),
                          ("human rights", humanRights)]
        let missing = dimensions.filter { $0.1.isBlank }.map(\.0)
        guard missing.count < dimensions.count else {
            throw RuleViolation(.invalidArgument,
                "assessment: a briefing assesses the political, military, humanitarian and human rights situation as appropriate (II.B.5(e)); give at least one")
        }
        return missing
    }

    /// I.B.9: advice sets out a range of options for action, each with its objective analysis:
    /// at least two distinct ones (the same option twice is one option).
    public static func checkOptions(_ options: [(title: String, analysis: String)]) throws(RuleViolation) {
        var seen: [String: Int] = [:]
        for (index, option) in options.enumerated() {
            if option.title.isBlank {
                throw RuleViolation(.invalidArgument, "options[\(index)].title: required")
            }
            if option.analysis.isBlank {
                throw RuleViolation(.failedPrecondition,
                    "options[\(index)].objective_analysis: each option rests on an objective analysis of the situation on the ground (I.B.9)")
            }
            let key = option.title.normalizedForComparison
            if let first = seen[key] {
                throw RuleViolation(.failedPrecondition,
                    "options[\(index)]: '\(option.title)' is options[\(first)] again; advice offers a range of distinct options for action (I.B.9)")
            }
            seen[key] = index
        }
        guard options.count >= 2 else {
            throw RuleViolation(.failedPrecondition,
                "options: advice offers a range of options for action (I.B.9); give at least two distinct options, got \(options.count)")
        }
    }

    /// I.B.9: the Secretariat's advice goes to the Council and the troop-contributing countries:
    /// countries contributing personnel (the preamble applies the annexes to police and other
    /// personnel alike; `OperationFacts.isTroopContributor`) and the potential contributors the
    /// Secretary-General identified (II.A.2).
    public static func mayReadAdvice(_ caller: Party, facts: OperationFacts) -> Bool {
        caller.isCouncilMember || caller.isSecretariat || facts.isTroopContributor(caller)
            || facts.potentialContributorIDs.contains(caller.id)
    }

    public static func checkMayReadAdvice(_ caller: Party, facts: OperationFacts, operationID: String) throws(RuleViolation) {
        guard mayReadAdvice(caller, facts: facts) else {
            throw RuleViolation(.permissionDenied,
                "Secretariat advice on \(operationID) goes to the Security Council and the troop-contributing countries (I.B.9)")
        }
    }
}
