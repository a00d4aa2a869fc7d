/// Who may convene, hold and speak at meetings, and when (II.A, II.B.1-II.B.5(a), II.B.6, II.C, II.D).
public enum MeetingRules {
    /// II.B.1: the President convenes II.A and II.B; II.C is the Secretariat's; II.D is open
    /// to the President, Council members and the Secretariat.
    public static func checkMayConvene(_ caller: Party, form: MeetingForm) throws(RuleViolation) {
        switch form {
        case .councilMeeting, .consultationMeeting, .councilConsultations:
            guard caller.isPresident else {
                throw RuleViolation(.permissionDenied,
                    "only the Council President convenes \(form.provision) meetings (II.B.1)")
            }
        case .secretariatMeeting:
            guard caller.isSecretariat else {
                throw RuleViolation(.permissionDenied, "only the Secretariat convenes II.C meetings with contributors (II.C)")
            }
        case .evaluation:
            guard caller.isSecretariat else {
                throw RuleViolation(.permissionDenied, "the Secretary-General convenes evaluation meetings (I.B.3)")
            }
        case .otherConsultation:
            guard caller.isCouncilMember || caller.isSecretariat else {
                throw RuleViolation(.permissionDenied,
                    "II.D consultations are between the Council President or members, the Secretary-General and contributors (II.D)")
            }
        }
    }

    /// II.B.5(a): a consultation meeting goes out with its informal paper.
    public static func checkInformalPaper(form: MeetingForm, agenda: String?) throws(RuleViolation) {
        guard form == .consultationMeeting else { return }
        guard let agenda, !agenda.isBlank else {
            throw RuleViolation(.failedPrecondition,
                "informal_paper: a consultation meeting cannot be convened without an informal paper with its agenda (II.B.5(a))")
        }
    }

    /// II.C: the SRSG, Force Commander and Police Commissioner join the Secretariat's meetings only.
    public static func checkMissionOfficials(form: MeetingForm, named: Bool) throws(RuleViolation) {
        guard !named || form == .secretariatMeeting else {
            throw RuleViolation(.invalidArgument,
                "mission_officials: the SRSG, Force Commander and Police Commissioner join II.C meetings (II.C)")
        }
    }

    /// No meeting is convened on a terminated operation.
    public static func checkOperationOpen(phase: Phase, operationID: String) throws(RuleViolation) {
        guard phase != .terminated else {
            throw RuleViolation(.failedPrecondition, "operation \(operationID) is terminated")
        }
    }

    /// A meeting convened in answer to a contributor's request (II.A.1, II.B.2): the request
    /// is still pending and asks for this form.
    public static func checkAnswers(_ request: MeetingRequestFacts, form: MeetingForm) throws(RuleViolation) {
        try RequestRules.checkPending(request)
        guard request.form == form else {
            throw RuleViolation(.failedPrecondition,
                "request \(request.id) asks for a \(request.form.provision) meeting, not \(form.provision)")
        }
    }

    /// II.B.2: a consultation meeting is held at a stage of (a)-(g), or at a contributor's request.
    public static func checkOccasion(form: MeetingForm, stage: Stage?, answersRequest: Bool) throws(RuleViolation) {
        guard form != .consultationMeeting || stage != nil || answersRequest else {
            throw RuleViolation(.invalidArgument,
                "stage: a consultation meeting is held at a stage of II.B.2(a)-(g) or at a contributor's request (request_id)")
        }
    }

    /// A meeting on the same operation, as the II.B.6 rule sees it.
    public struct EarlierMeeting: Sendable {
        public var id: String
        public var form: MeetingForm
        public var scheduledAt: Int64
        public var summary: SummaryStatus

        public init(id: String, form: MeetingForm, scheduledAt: Int64, summary: SummaryStatus) {
            self.id = id
            self.form = form
            self.scheduledAt = scheduledAt
            self.summary = summary
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
                throw RuleViolation(.permissionDenied, "only the Council President may override II.B.6")
            }
            return reason
        }
        throw RuleViolation(.failedPrecondition,
            "the summary of contributors' meeting \(first.id) has not been circulated to Council members (II.B.6); circulate it first or give summary_override_reason")
    }

    /// Its convener records that a meeting was held (the President for any but the Secretariat's); once.
    public static func checkMayRecordHeld(_ caller: Party, convenedBy: Int64, form: MeetingForm, status: MeetingStatus,
                                          meetingID: String) throws(RuleViolation) {
        guard convenedBy == caller.id || (caller.isPresident && form != .secretariatMeeting) else {
            throw RuleViolation(.permissionDenied, "only the meeting's convener records that it was held")
        }
        guard status == .convened else {
            throw RuleViolation(.failedPrecondition, "meeting \(meetingID) is already recorded as held")
        }
    }

    /// Observers attend but do not speak; only invited participants make statements.
    public static func checkMayMakeStatement(role: ParticipationRole?, category: InvitationCategory?) throws(RuleViolation) {
        guard let role else {
            throw RuleViolation(.permissionDenied, "only parties invited to the meeting may make statements in it")
        }
        guard role == .participant else {
            throw RuleViolation(.permissionDenied,
                "observers cannot make statements (invited as an observer under \(category?.provision ?? "II.B.3"))")
        }
    }

    /// Who sees a meeting: its invitees, the President and the Secretariat.
    public static func maySee(_ caller: Party, invited: Bool) -> Bool {
        invited || seesEveryMeeting(caller)
    }

    /// The President and the Secretariat see every meeting and every request for one.
    public static func seesEveryMeeting(_ caller: Party) -> Bool {
        caller.isPresident || caller.isSecretariat
    }
}
