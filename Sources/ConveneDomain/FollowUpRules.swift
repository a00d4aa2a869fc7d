/// The figures of the six-month assessment of the meetings with contributors (I.D.1, OP.3),
/// for the follow-up-assessment plugin to reuse, so that they match a hand count.
public enum FollowUpRules {
    /// One meeting as the participation figures count it.
    public struct Attendance: Sendable {
        /// The parties invited to the meeting as participants (never observers, who may not
        /// speak, and never a principal that is no party to the consultations: those are not invited).
        public var participants: Set<Int64>
        /// The parties that made a statement in it.
        public var speakers: Set<Int64>

        public init(participants: Set<Int64>, speakers: Set<Int64>) {
            self.participants = participants
            self.speakers = speakers
        }
    }

    public struct Participation: Sendable, Equatable {
        /// Meetings with at least one invited participant: the ones counted.
        public var meetings: Int
        /// Invitations as participants, summed over those meetings.
        public var invitations: Int
        /// Of those, the ones whose party spoke in its meeting.
        public var spoke: Int

        public init(meetings: Int, invitations: Int, spoke: Int) {
            self.meetings = meetings
            self.invitations = invitations
            self.spoke = spoke
        }

        /// Mean number of invited participants per counted meeting.
        public var meanParticipants: Double { meetings == 0 ? 0 : Double(invitations) / Double(meetings) }
        /// Share of invited participants who made a statement.
        public var share: Double { invitations == 0 ? 0 : Double(spoke) / Double(invitations) }
    }

    /// Participation over the invited participants of each meeting: a speaker who was not
    /// invited as a participant is not counted.
    public static func participation(_ meetings: [Attendance]) -> Participation {
        var result = Participation(meetings: 0, invitations: 0, spoke: 0)
        for meeting in meetings where !meeting.participants.isEmpty {
            result.meetings += 1
            result.invitations += meeting.participants.count
            result.spoke += meeting.participants.intersection(meeting.speakers).count
        }
        return result
    }

    /// A report distributed for a contributors' meeting (II.B.5(b)).
    public struct Distribution: Sendable {
        public var distributedAt: Int64
        public var meetingAt: Int64

        public init(distributedAt: Int64, meetingAt: Int64) {
            self.distributedAt = distributedAt
            self.meetingAt = meetingAt
        }
    }

    /// The mean lead time, in hours, of every report distributed in the window whose meeting is
    /// in the window too (a report distributed after its meeting counts with a negative lead);
    /// `counted` says how many reports that is.
    public static func meanLeadHours(_ reports: [Distribution], from: Int64, to: Int64) -> (hours: Double, counted: Int) {
        let counted = reports.filter {
            $0.distributedAt >= from && $0.distributedAt <= to && $0.meetingAt >= from && $0.meetingAt <= to
        }
        guard !counted.isEmpty else { return (0, 0) }
        let total = counted.reduce(0.0) { $0 + Double($1.meetingAt - $1.distributedAt) / 3_600_000 }
        return (total / Double(counted.count), counted.count)
    }
}
