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
    public static func checkDistributionMeeting(sameOperation: Bool, form: MeetingForm, meetingID: String) throws(RuleViolation) {
        guard sameOperation else {
            throw RuleViolation(.failedPrecondition, "meeting \(meetingID) is not on the report's operation")
        }
        guard form == .consultationMeeting else {
            throw RuleViolation(.failedPrecondition,
                "reports are distributed for consultation meetings with contributors (II.B.5(b))")
        }
    }

    /// II.B.5(b): what a distribution of a report for a contributors' meeting breaks.
    /// - Parameters:
    ///   - now, meetingAt: milliseconds since 1970.
    ///   - leadTime: how long before the meeting the report must reach the invited parties, in ms.
    ///   - councilDiscussionsAt: when the Council members' own discussions of the operation are scheduled.
    public static func distributionFlags(now: Int64, meetingAt: Int64, leadTime: Int64,
                                         councilDiscussionsAt: [Int64]) -> [String] {
        var flags: [String] = []
        if meetingAt - now < leadTime {
            flags.append("distributed \(max(meetingAt - now, 0).hoursText) h before the contributors' meeting; the rule is \(leadTime.hoursText) h (II.B.5(b))")
        }
        if councilDiscussionsAt.contains(where: { $0 >= now && $0 <= meetingAt }) {
            flags.append("the Council members discuss the operation before the contributors' meeting (II.B.5(b))")
        }
        return flags
    }

    /// II.B.5(b): a distribution that breaks the rule goes ahead only with the reason why.
    /// - Returns: the late reason to record, nil when nothing was broken.
    public static func checkLateReason(flags: [String], reason: String) throws(RuleViolation) -> String? {
        guard !flags.isEmpty else { return nil }
        guard !reason.isBlank else {
            throw RuleViolation(.failedPrecondition, flags.joined(separator: "; ") + "; give late_reason to distribute anyway")
        }
        return reason
    }

    /// II.B.5(c): a fact sheet is handed to the participants at the start of the meeting.
    public static func checkFactSheetTiming(_ status: MeetingStatus, meetingID: String) throws(RuleViolation) {
        guard status == .convened else {
            throw RuleViolation(.failedPrecondition,
                "fact sheets are handed to participants at the start of a meeting (II.B.5(c)); \(meetingID) was already held")
        }
    }

    /// II.B.5(d): senior field-mission personnel brief as far as possible; anyone else needs a reason.
    public static func checkBriefer(isSeniorFieldMission: Bool, unavailableReason: String) throws(RuleViolation) {
        guard isSeniorFieldMission || !unavailableReason.isBlank else {
            throw RuleViolation(.failedPrecondition,
                "field_briefer_unavailable_reason: briefings are given by senior field-mission personnel as far as possible (II.B.5(d)); say why not")
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

    /// I.B.9: advice sets out a range of options, each with its objective analysis.
    public static func checkOptions(_ options: [(title: String, analysis: String)]) throws(RuleViolation) {
        guard options.count >= 2 else {
            throw RuleViolation(.failedPrecondition,
                "options: advice sets out a range of options for action (I.B.9); give at least two, got \(options.count)")
        }
        for (index, option) in options.enumerated() {
            if option.title.isBlank {
                throw RuleViolation(.invalidArgument, "options[\(index)].title: required")
            }
            if option.analysis.isBlank {
                throw RuleViolation(.failedPrecondition,
                    "options[\(index)].objective_analysis: each option rests on an objective analysis of the situation on the ground (I.B.9)")
            }
        }
    }

    /// I.B.9: the Secretariat's advice goes to the Council and the operation's contributors.
    public static func checkMayReadAdvice(_ caller: Party, contributes: Bool, operationID: String) throws(RuleViolation) {
        guard caller.isCouncilMember || caller.isSecretariat || contributes else {
            throw RuleViolation(.permissionDenied,
                "Secretariat advice on \(operationID) goes to the Council and its contributors (I.B.9)")
        }
    }
}
