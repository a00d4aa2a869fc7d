/// The summaries of consultation meetings with contributors (II.B.6): the President, assisted by
/// the Secretariat, prepares one after the meeting; the President circulates it to the Council.
public enum SummaryRules {
    public static func checkMayPrepare(_ caller: Party) throws(RuleViolation) {
        guard caller.isPresident || caller.isSecretariat else {
            throw RuleViolation(.permissionDenied,
                "the Council President, assisted by the Secretariat, prepares summaries (II.B.6)")
        }
    }

    public static func checkMayCirculate(_ caller: Party) throws(RuleViolation) {
        guard caller.isPresident else {
            throw RuleViolation(.permissionDenied, "only the Council President circulates summaries (II.B.6)")
        }
    }

    /// Summaries go to the President, the Council members and the Secretariat.
    public static func checkMayRead(_ caller: Party) throws(RuleViolation) {
        guard caller.isCouncilMember || caller.isSecretariat else {
            throw RuleViolation(.permissionDenied,
                "summaries are circulated to the Council President, Council members and the Secretariat (II.B.6)")
        }
    }

    /// A summary is (re)prepared for a consultation meeting that was held, until it is circulated.
    /// - Parameter existing: the status of the summary already prepared, if any.
    public static func checkMayBePrepared(form: MeetingForm, meeting: MeetingStatus, existing: SummaryStatus?,
                                          meetingID: String) throws(RuleViolation) {
        try checkHasSummaries(form: form, meetingID: meetingID)
        guard meeting == .held else {
            throw RuleViolation(.failedPrecondition,
                "meeting \(meetingID) has not been held yet; its summary is prepared after it (II.B.6: a summary of the content of each consultation meeting)")
        }
        try checkNotCirculated(existing, meetingID: meetingID)
    }

    /// Summaries are of consultation meetings with contributors (II.B.6).
    public static func checkHasSummaries(form: MeetingForm, meetingID: String) throws(RuleViolation) {
        guard form == .consultationMeeting else {
            throw RuleViolation(.failedPrecondition,
                "summaries are prepared for consultation meetings with troop-contributing countries (II.B.6); \(meetingID) is one of the \(form.name)")
        }
    }

    /// What a reader allowed to read summaries gets: the President and the Secretariat a prepared
    /// one, Council members a circulated one (II.B.6).
    public static func checkReadable(_ caller: Party, _ status: SummaryStatus?, meetingID: String) throws(RuleViolation) {
        guard let status else {
            throw RuleViolation(.failedPrecondition,
                "meeting \(meetingID) has no summary yet: the Council President, assisted by the Secretariat, prepares it after the meeting (II.B.6)")
        }
        guard sees(caller, status) else {
            throw RuleViolation(.failedPrecondition,
                "the summary of \(meetingID) has not been circulated to the Council members yet (II.B.6)")
        }
    }

    /// A summary is circulated once it is prepared, and once.
    public static func checkMayBeCirculated(_ existing: SummaryStatus?, meetingID: String) throws(RuleViolation) {
        guard existing != nil else {
            throw RuleViolation(.failedPrecondition, "meeting \(meetingID) has no summary to circulate; prepare it first (PrepareSummary, II.B.6)")
        }
        try checkNotCirculated(existing, meetingID: meetingID)
    }

    static func checkNotCirculated(_ existing: SummaryStatus?, meetingID: String) throws(RuleViolation) {
        guard existing != .circulated else {
            throw RuleViolation(.failedPrecondition, "the summary of \(meetingID) was already circulated to the Council members (II.B.6)")
        }
    }

    /// Council members receive a summary once it is circulated; the President and the Secretariat at once.
    public static func sees(_ caller: Party, _ status: SummaryStatus) -> Bool {
        caller.isPresident || caller.isSecretariat || status == .circulated
    }
}
