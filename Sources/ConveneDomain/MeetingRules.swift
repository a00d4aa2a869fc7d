/// Who may do what with meetings, and when (II.A, II.B.1, II.B.5(a), II.B.6, II.C, II.D).
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
        guard let agenda, !agenda.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw RuleViolation(.failedPrecondition,
                "informal_paper: a consultation meeting cannot be convened without an informal paper with its agenda (II.B.5(a))")
        }
    }

    /// A contributors' meeting on the same operation whose summary is not circulated.
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
    public static func checkSummariesCirculated(form: MeetingForm, scheduledAt: Int64, earlier: [EarlierMeeting],
                                                caller: Party, overrideReason: String?) throws(RuleViolation) {
        guard form.isCouncilDiscussion else { return }
        let blocking = earlier.filter {
            $0.form == .consultationMeeting && $0.scheduledAt <= scheduledAt && $0.summary != .circulated
        }
        guard let first = blocking.first else { return }
        if let reason = overrideReason, !reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            guard caller.isPresident else {
                throw RuleViolation(.permissionDenied, "only the Council President may override II.B.6")
            }
            return
        }
        throw RuleViolation(.failedPrecondition,
            "the summary of contributors' meeting \(first.id) has not been circulated to Council members (II.B.6); circulate it first or give summary_override_reason")
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

    /// II.B.6: the President, assisted by the Secretariat, prepares the summary; the
    /// President circulates it to the Council members.
    public static func checkMayPrepareSummary(_ caller: Party) throws(RuleViolation) {
        guard caller.isPresident || caller.isSecretariat else {
            throw RuleViolation(.permissionDenied,
                "the Council President, assisted by the Secretariat, prepares summaries (II.B.6)")
        }
    }

    public static func checkMayCirculateSummary(_ caller: Party) throws(RuleViolation) {
        guard caller.isPresident else {
            throw RuleViolation(.permissionDenied, "only the Council President circulates summaries (II.B.6)")
        }
    }

    /// Summaries go to the President, the Council members and the Secretariat (II.B.6).
    public static func checkMayReadSummary(_ caller: Party) throws(RuleViolation) {
        guard caller.isCouncilMember || caller.isSecretariat else {
            throw RuleViolation(.permissionDenied,
                "summaries are circulated to the Council President, Council members and the Secretariat (II.B.6)")
        }
    }

    /// Who sees a meeting: its invitees, the President and the Secretariat.
    public static func maySee(_ caller: Party, invited: Bool) -> Bool {
        invited || caller.isPresident || caller.isSecretariat
    }

    /// A contributor may request a meeting on an operation it contributes personnel to (II.A.1, II.B.2).
    public static func checkMayRequest(_ caller: Party, facts: OperationFacts, operationID: String,
                                       form: MeetingForm) throws(RuleViolation) {
        guard form == .councilMeeting || form == .consultationMeeting else {
            throw RuleViolation(.invalidArgument, "form: contributors may request II.A or II.B meetings (II.A.1, II.B.2)")
        }
        guard facts.contributes(caller.id, where: \.isPersonnel) else {
            throw RuleViolation(.permissionDenied,
                "only a country contributing personnel to operation \(operationID) may request a meeting on it (II.A.1, II.B.2)")
        }
    }
}

import Foundation
