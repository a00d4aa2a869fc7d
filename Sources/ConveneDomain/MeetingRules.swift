/// Who may convene, hold and speak at meetings, and when (II.A, II.B.1-II.B.5(a), II.B.6, II.C, II.D).
public enum MeetingRules {
    /// II.B.1: the President convenes II.A and II.B; II.C is the Secretariat's; II.D is open
    /// to the President, Council members and the Secretariat.
    public static func checkMayConvene(_ caller: Party, form: MeetingForm) throws(RuleViolation) {
        switch form {
        case .councilMeeting, .consultationMeeting, .councilConsultations:
            guard caller.isPresident else {
                throw RuleViolation(.permissionDenied,
                    "only the Council President convenes \(form.name): consultation meetings are convened and chaired by the President of the Security Council (II.B.1)")
            }
        case .secretariatMeeting:
            guard caller.isSecretariat else {
                throw RuleViolation(.permissionDenied, "only the Secretariat convenes \(form.name)")
            }
        case .evaluation:
            guard caller.isSecretariat else {
                throw RuleViolation(.permissionDenied,
                    "only the Secretary-General convenes \(form.name): assessment meetings with the relevant delegations, as part of lessons learned (I.B.3)")
            }
        case .otherConsultation:
            guard caller.isCouncilMember || caller.isSecretariat else {
                throw RuleViolation(.permissionDenied,
                    "\(form.name) are communication between the Council President or members, the Secretary-General and troop-contributing countries (II.D); a troop-contributing country asks for a meeting with RequestMeeting")
            }
        }
    }

    /// II.B.5(a): a consultation meeting goes out with its informal paper: the agenda and
    /// the issues to be discussed (background documents where there are relevant ones, which
    /// the server may attach itself: the lessons of a planning meeting).
    public static func checkInformalPaper(form: MeetingForm, agenda: String?, issues: [String]) throws(RuleViolation) {
        guard form == .consultationMeeting else { return }
        guard let agenda, !agenda.isBlank else {
            throw RuleViolation(.failedPrecondition,
                "informal_paper: consultation meetings with troop-contributing countries are convened with an informal paper with the agenda, the issues and background documents (II.B.5(a)); give its agenda")
        }
        guard issues.contains(where: { !$0.isBlank }) else {
            throw RuleViolation(.failedPrecondition,
                "informal_paper.issues: the informal paper names the issues to be discussed (II.B.5(a)); give at least one")
        }
    }

    /// II.A.1: the Council's own meetings with the contributors are public or private; the
    /// other forms are the participants' (a consultation meeting, II.B) and never public.
    public static func checkPublic(form: MeetingForm, isPublic: Bool) throws(RuleViolation) {
        guard !isPublic || form == .councilMeeting else {
            throw RuleViolation(.invalidArgument,
                "public: only a meeting of the Security Council with the contributors (II.A.1) is public or private; \(form.name) are not public")
        }
    }

    /// II.C: the SRSG, Force Commander and Police Commissioner join the Secretariat's meetings only.
    public static func checkMissionOfficials(form: MeetingForm, named: Bool) throws(RuleViolation) {
        guard !named || form == .secretariatMeeting else {
            throw RuleViolation(.invalidArgument,
                "mission_officials: the Special Representative, the Force Commander and the Civilian Police Commissioner take part in meetings between the Secretariat and troop-contributing countries (II.C), not in \(form.name)")
        }
    }

    /// No meeting is convened on a terminated operation, but for two: an assessment meeting, for
    /// the lessons of an operation are learned at every stage of it, its end included (I.B.3,
    /// I.B.4: the experience of contingents after withdrawal), and a meeting that took place and
    /// is recorded after the fact (`recordedAfterTheFact`), for the record is of what happened.
    public static func checkOperationOpen(phase: Phase, form: MeetingForm, recordedAfterTheFact: Bool,
                                          operationID: String) throws(RuleViolation) {
        guard phase != .terminated || form == .evaluation || recordedAfterTheFact else {
            throw RuleViolation(.failedPrecondition,
                "operation \(operationID) is terminated; no meeting is convened on it (but for an assessment meeting, I.B.3, and a meeting recorded after the fact)")
        }
    }

    /// A meeting convened in answer to a contributor's request (II.A.1, II.B.2): the request
    /// is still pending and asks for this form.
    public static func checkAnswers(_ request: MeetingRequestFacts, form: MeetingForm) throws(RuleViolation) {
        try RequestRules.checkPending(request)
        guard request.form == form else {
            throw RuleViolation(.failedPrecondition,
                "request_id: \(request.id) asks for \(request.form.name), not \(form.name)")
        }
    }

    /// II.B.2: a consultation meeting is held at a stage of (a)-(g), or at a contributor's request.
    public static func checkOccasion(form: MeetingForm, stage: Stage?, answersRequest: Bool) throws(RuleViolation) {
        guard form != .consultationMeeting || stage != nil || answersRequest else {
            throw RuleViolation(.invalidArgument,
                "stage: consultation meetings with troop-contributing countries are held at a stage of II.B.2(a)-(g), or at a troop-contributing country's request (request_id)")
        }
    }

    /// A meeting on the same operation, as the II.B.6 rule sees it.
    public struct EarlierMeeting: Sendable {
        public var id: String
        public var form: MeetingForm
        public var scheduledAt: Int64
        public var summary: SummaryStatus
        /// When its summary was circulated, if it was.
        public var circulatedAt: Int64?

        public init(id: String, form: MeetingForm, scheduledAt: Int64, summary: SummaryStatus, circulatedAt: Int64? = nil) {
            self.id = id
            self.form = form
            self.scheduledAt = scheduledAt
            self.summary = summary
            self.circulatedAt = circulatedAt
        }
    }

    /// II.B.6 once more, when the Council members' discussion is recorded as held: the summary
    /// of a contributors' meeting before it that reached them only after the discussion's time
    /// did not reach them "before" it. What happened is recorded, not refused (the discussion
    /// took place; a summary circulated late still serves their next meeting): a flag on the
    /// discussion per late summary. None for a discussion convened with an override reason.
    public static func lateSummaryFlags(form: MeetingForm, scheduledAt: Int64, earlier: [EarlierMeeting],
                                        overridden: Bool) -> [String] {
        guard form.isCouncilDiscussion, !overridden else { return [] }
        return earlier.compactMap { meeting in
            guard meeting.form == .consultationMeeting, meeting.scheduledAt <= scheduledAt, meeting.summary == .circulated,
                  let circulated = meeting.circulatedAt, circulated > scheduledAt else { return nil }
            return "the summary of the consultation meeting with troop-contributing countries \(meeting.id) (\(TimeText.date(meeting.scheduledAt))) was circulated to the Council members on \(TimeText.date(circulated)), \(TimeText.truncated(circulated - scheduledAt)) after this discussion (\(TimeText.date(scheduledAt))); it goes to them before their informal consultations or next meeting on the operation (II.B.6)"
        }
    }

    /// II.B.6: Council discussion of an operation waits for the summaries of earlier
    /// contributors' meetings, unless the President overrides it with a reason.
    /// - Returns: the override reason to record with the meeting: the one given, when it was needed.
    public static func checkSummariesCirculated(form: MeetingForm, scheduledAt: Int64, earlier: [EarlierMeeting],
                                                caller: Party, overrideReason: String?) throws(RuleViolation) -> String? {
        guard form.isCouncilDiscussion else { return nil }
        let blocking = earlier.filter {
            $0.form == .consultationMeeting && $0.scheduledAt <= scheduledAt && $0.summary != .circulated
        }
        guard let first = blocking.first else { return nil }
        if let reason = overrideReason, !reason.isBlank {
            guard caller.isPresident else {
                throw RuleViolation(.permissionDenied, "summary_override_reason: only the Council President overrides II.B.6")
            }
            return reason
        }
        throw RuleViolation(.failedPrecondition,
            "the summary of the consultation meeting with troop-contributing countries \(first.id) (\(TimeText.date(first.scheduledAt))) has not been circulated to the Council members, and it goes to them before their informal consultations or next meeting on the operation (II.B.6); circulate it first, or give summary_override_reason")
    }

    /// II.B.6 again when the Council members' discussion is recorded as held: by then every
    /// contributors' meeting scheduled before it has its summary circulated to them, whichever
    /// was convened first (a contributors' meeting convened after the discussion is caught here),
    /// unless the President convened the discussion with an override reason.
    public static func checkSummariesCirculatedBeforeHeld(form: MeetingForm, scheduledAt: Int64, earlier: [EarlierMeeting],
                                                          overridden: Bool, meetingID: String) throws(RuleViolation) {
        guard form.isCouncilDiscussion, !overridden else { return }
        let blocking = earlier.filter {
            $0.form == .consultationMeeting && $0.scheduledAt <= scheduledAt && $0.summary != .circulated
        }
        guard let first = blocking.first else { return }
        throw RuleViolation(.failedPrecondition,
            "the summary of the consultation meeting with troop-contributing countries \(first.id) (\(TimeText.date(first.scheduledAt))) has not been circulated to the Council members, and it goes to them before their informal consultations or next meeting on the operation (II.B.6); circulate it before recording \(meetingID) as held")
    }

    /// Its convener records that a meeting was held, while it still may convene that form (a
    /// President who passed the presidency, staff who left the Secretariat, no longer do); the
    /// President may for any form but the Secretariat's, and the Secretariat for its own forms
    /// (II.C, I.B.3: the Secretariat's meetings, whoever of it convened them). Once, and not
    /// before its scheduled time.
    public static func checkMayRecordHeld(_ caller: Party, convenedBy: Int64, form: MeetingForm, status: MeetingStatus,
                                          scheduledAt: Int64, now: Int64, meetingID: String) throws(RuleViolation) {
        let secretariatForm = form == .secretariatMeeting || form == .evaluation
        let stillConvener = convenedBy == caller.id && (try? checkMayConvene(caller, form: form)) != nil
        guard stillConvener || (caller.isPresident && !secretariatForm) || (caller.isSecretariat && secretariatForm) else {
            throw RuleViolation(.permissionDenied,
                "only the meeting's convener, while it may still convene \(form.name), records that it was held (or, for a Council-convened form, the Council President; for the Secretariat's, the Secretariat)")
        }
        guard status == .convened else {
            throw RuleViolation(.failedPrecondition, "meeting \(meetingID) is already recorded as held")
        }
        guard scheduledAt <= now else {
            throw RuleViolation(.failedPrecondition,
                "meeting \(meetingID) is scheduled for \(TimeText.date(scheduledAt)), \(TimeText.truncated(scheduledAt - now)) from now (\(TimeText.date(now))); it cannot be recorded as held before its scheduled time")
        }
    }

    /// A meeting is convened for a time to come. One that took place outside the system is
    /// recorded after the fact, with the reason, and the account says so.
    /// - Returns: the reason to record, nil for a meeting to come.
    public static func checkScheduledTime(_ scheduledAt: Int64, now: Int64, pastReason: String?) throws(RuleViolation) -> String? {
        if scheduledAt >= now {
            guard pastReason == nil else {
                throw RuleViolation(.invalidArgument,
                    "past_meeting_reason: the meeting is scheduled for \(TimeText.date(scheduledAt)), which is not past; it is convened, not recorded after the fact")
            }
            return nil
        }
        guard let pastReason else {
            throw RuleViolation(.failedPrecondition,
                "scheduled_time: \(TimeText.date(scheduledAt)) is \(TimeText.truncated(now - scheduledAt)) before now (\(TimeText.date(now))); a meeting is convened for a time to come; to record one that took place outside the system, give past_meeting_reason")
        }
        return pastReason
    }

    /// A discussion of the same report scheduled on the same operation, as the II.B.5(b) order rule sees it.
    public struct ScheduledDiscussion: Sendable {
        public var id: String
        public var form: MeetingForm
        public var scheduledAt: Int64

        public init(id: String, form: MeetingForm, scheduledAt: Int64) {
            self.id = id
            self.form = form
            self.scheduledAt = scheduledAt
        }
    }

    /// II.B.5(b): reports are distributed early "so that meetings with troop-contributing countries
    /// can be held before Security Council members discuss them". What a meeting on a report breaks:
    /// a contributors' meeting after the Council members' discussion of the report, or a Council
    /// discussion before the contributors' meeting on it.
    public static func orderFlags(form: MeetingForm, scheduledAt: Int64, reportID: String,
                                  others: [ScheduledDiscussion]) -> [String] {
        let rule = "meetings with troop-contributing countries are held before the Council members discuss the report (II.B.5(b))"
        if form == .consultationMeeting {
            return others.filter { $0.form.isCouncilDiscussion && $0.scheduledAt <= scheduledAt }.map {
                "the Council members discuss \(reportID) in \($0.id) on \(TimeText.date($0.scheduledAt)), before this contributors' meeting on \(TimeText.date(scheduledAt)); \(rule)"
            }
        }
        if form.isCouncilDiscussion {
            return others.filter { $0.form == .consultationMeeting && $0.scheduledAt >= scheduledAt }.map {
                "the contributors' meeting \($0.id) on \(reportID) is on \(TimeText.date($0.scheduledAt)), after this discussion by the Council members on \(TimeText.date(scheduledAt)); \(rule)"
            }
        }
        return []
    }

    /// II.B.6: the summary conveys to the Council members what was said in the meeting; once it
    /// is circulated, the record of the meeting's statements is closed (a statement added later
    /// would stand in the record as said there, yet never reach them).
    public static func checkStatementsOpen(summary: SummaryStatus, meetingID: String) throws(RuleViolation) {
        guard summary != .circulated else {
            throw RuleViolation(.failedPrecondition,
                "the summary of \(meetingID) has been circulated to the Council members (II.B.6), which closes the record of what was said in it; raise the matter at a later meeting")
        }
    }

    /// Observers attend but do not speak; only invited participants make statements.
    public static func checkMayMakeStatement(_ caller: Party, role: ParticipationRole?, category: InvitationCategory?) throws(RuleViolation) {
        guard let role else {
            throw RuleViolation(.permissionDenied, "only the parties invited to a meeting make statements in it (II.B.3)")
        }
        if let category, !category.isHeld(by: caller) {
            throw RuleViolation(.permissionDenied,
                "invited as one of \(category.name) (\(category.provision)), the caller is no longer one of them, and no longer speaks in the meeting")
        }
        guard role == .participant else {
            throw RuleViolation(.permissionDenied,
                "observers cannot make statements: invited as \(category?.name ?? "an observer") (\(category?.provision ?? "II.B.3")), the caller attends as an observer")
        }
    }

    /// II.B.4(d): the concerns a statement may voice are troop-contributing countries' (those
    /// invited as contributors of personnel, present or potential): the account of
    /// consultations counts them (I.B.2), and the Council and the Secretariat answer them.
    public static func checkMayVoiceConcern(category: InvitationCategory?) throws(RuleViolation) {
        let contributors: Set<InvitationCategory> = [.troopPoliceContributor, .potentialContributor, .regionalTroopContributor]
        guard let category, contributors.contains(category) else {
            throw RuleViolation(.permissionDenied,
                "concern: the concerns of II.B.4(d) are troop-contributing countries'; the caller is invited as \(category?.name ?? "none of them") (\(category?.provision ?? "II.B.3")): record the statement without concern")
        }
    }

    /// Who sees a meeting: its invitees, the President and the Secretariat. `invited`: invited
    /// in a category that counts for the caller now (`invitationCounts`).
    public static func maySee(_ caller: Party, invited: Bool) -> Bool {
        invited || seesEveryMeeting(caller)
    }

    /// Whether an invitation in `category` makes `caller` an invitee now: one held by a role (a
    /// Council seat, the Secretariat's staff) only while the caller holds that role, so that a
    /// party that left the Council no longer reads the meetings it sat in as a member (nor
    /// what is said there after it left); its access was its role's. A category this version
    /// does not know counts.
    public static func invitationCounts(_ category: Int, for caller: Party) -> Bool {
        InvitationCategory(rawValue: category)?.isHeld(by: caller) ?? true
    }

    /// The President and the Secretariat see every meeting and every request for one.
    public static func seesEveryMeeting(_ caller: Party) -> Bool {
        caller.isPresident || caller.isSecretariat
    }
}
