import ConveneDomain
import XCTest

/// The six-month assessment's figures (I.D.1, OP.3) against a data set counted by hand.
final class FollowUpRulesTests: XCTestCase {
    func testParticipationIsOverTheInvitedParticipantsOfEachMeeting() {
        // Meeting 1: 4 invited participants (1, 2, 3, 4); 1 and 2 spoke, and 9 (not invited) spoke.
        // Meeting 2: 2 invited participants (1, 5); nobody spoke.
        // Meeting 3: no invited participant (a meeting of the Council's own): not counted.
        // Meeting 4: 3 invited participants (2, 3, 6); all spoke.
        // By hand: 4 meetings, 3 counted; 9 invitations; 2 + 0 + 3 = 5 spoke; share 5/9; mean 3.
        let figures = FollowUpRules.participation([
            .init(participants: [1, 2, 3, 4], speakers: [1, 2, 9]),
            .init(participants: [1, 5], speakers: []),
            .init(participants: [], speakers: [7]),
            .init(participants: [2, 3, 6], speakers: [2, 3, 6]),
        ])
        XCTAssertEqual(figures, FollowUpRules.Participation(meetings: 3, invitations: 9, spoke: 5))
        XCTAssertEqual(figures.share, 5.0 / 9.0, accuracy: 1e-12)
        XCTAssertEqual(figures.meanParticipants, 3.0)
        XCTAssertEqual(FollowUpRules.participation([]).share, 0)
    }

    func testTheMeanLeadTimeCountsEveryReportDistributedInTheWindowWhoseMeetingIsInIt() {
        let hour: Int64 = 3_600_000
        let from: Int64 = 1_000 * hour, to: Int64 = 2_000 * hour
        let (mean, counted) = FollowUpRules.meanLeadHours([
            .init(distributedAt: 1_100 * hour, meetingAt: 1_148 * hour),  // 48 h: counted
            .init(distributedAt: 1_200 * hour, meetingAt: 1_210 * hour),  // 10 h: counted
            .init(distributedAt: 1_300 * hour, meetingAt: 1_298 * hour),  // after the meeting, -2 h: counted
            .init(distributedAt: 990 * hour, meetingAt: 1_010 * hour),    // distributed before the window: not counted
            .init(distributedAt: 1_990 * hour, meetingAt: 2_030 * hour),  // meeting after the window: not counted
        ], from: from, to: to)
        XCTAssertEqual(counted, 3)
        XCTAssertEqual(mean, (48.0 + 10.0 - 2.0) / 3.0, accuracy: 1e-12)
    }
}
