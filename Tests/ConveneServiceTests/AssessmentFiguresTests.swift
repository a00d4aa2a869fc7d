import ConveneClient
import ConveneProtos
import ConveneRPC
import ConveneTransport
import Foundation
import SwiftProtobuf
import XCTest

/// The six-month assessment (I.D.1, OP.3) against a data set built by hand, every figure checked
/// against a count made here: participants are the parties each meeting invites as participants
/// (observers and plugin principals never are), the participation share is over them, and the
/// mean report lead time is over every report distributed in the window whose meeting is in it.
final class AssessmentFiguresTests: OperationTestCase {
    override class var builtPlugins: Bool { true }

    /// Plugins keep their own times by the system's clock: so does the server here.
    override var clock: ManualClock? { nil }
    let service = "convene.assessment.v1.FollowUpAssessment"
    var day: Int64 { 86_400_000 }

    func speak(_ party: String, in meetingID: String) async throws {
        _ = try await f.client.unary(CM.recordStatement, Convene_Consultation_V1_RecordStatementRequest.with {
            $0.meetingID = meetingID; $0.text = "\(party) speaks"
        }, as: Convene_Consultation_V1_Statement.self, options: f.options(party))
    }

    /// Publishes a report and distributes it for `meetingID`; when it was distributed.
    func distributeReport(for meetingID: String) async throws -> Int64 {
        let published = try await f.client.briefing.publishReport(.with {
            $0.operationID = operation; $0.symbol = "S/2026/\(UUID().uuidString.prefix(6))"; $0.title = "Report"
        }, options: f.options("Secretariat"))
        let report = try await f.client.briefing.distributeReport(.with { $0.reportID = published.id; $0.meetingID = meetingID },
                                                                   options: f.options("Secretariat"))
        return report.distributeTime.seconds * 1000 + Int64(report.distributeTime.nanos / 1_000_000)
    }

    /// The parties a meeting invites as participants, as the meeting's record lists them.
    func participants(_ meeting: Convene_Consultation_V1_Meeting) -> Set<String> {
        Set(meeting.invitations.filter { $0.role == .participant }.map(\.partyID))
    }

    func testTheAssessmentsFiguresMatchAHandCount() async throws {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        // The window: 60 days ending 30 days from now.
        let windowEnd = now + 30 * day
        // Two meetings held in the past (recorded after the fact), with the host country and a
        // regional organization invited as observers; one to come with a report; one after the
        // window with a report (distributed in the window, its meeting is not: not counted).
        let first = try await f.convene(operation, stage: .mandateRenewal, at: now - 10 * day, extra: ["Host", "Regional"],
                                        pastReason: "Held before the consultations were recorded here")
        let second = try await f.convene(operation, stage: .rapidDeterioration, at: now - 5 * day,
                                         pastReason: "Held by video link during the outage")
        let third = try await f.convene(operation, stage: .significantDevelopments, at: now + 10 * day)
        let outside = try await f.convene(operation, stage: .mandateRenewal, at: now + 40 * day)
        for (party, meeting) in [("Troops", first), ("Police", first), ("President", first), ("Troops", second)] {
            try await speak(party, in: meeting.id)
        }
        // An observer may not speak (II.B.3(f)): nothing it says is counted.
        await assertRPCError(.permissionDenied) { try await self.speak("Host", in: first.id) }
        let thirdDistributed = try await distributeReport(for: third.id)
        _ = try await distributeReport(for: outside.id)
        // A Group of Friends on the operation makes the friends plugin act under its own principal
        // when a meeting is convened: that principal is never a participant.
        let group = try await f.call("convene.friends.v1.GroupsOfFriends", "FormGroup", Convene_Friends_V1_FormGroupRequest.with {
            $0.operationID = operation; $0.name = "Friends of UNMIX"
        }, as: Convene_Friends_V1_Group.self, by: "Secretariat")
        _ = try await f.call("convene.friends.v1.GroupsOfFriends", "AddMember", Convene_Friends_V1_AddMemberRequest.with {
            $0.groupID = group.id; $0.partyID = f.ids["Donor"]!; $0.kind = .donor
        }, as: Convene_Friends_V1_Group.self, by: "Secretariat")

        // The hand count.
        let counted = [first, second, third]
        let invited = counted.map(participants)
        XCTAssertTrue(invited.allSatisfy { !$0.contains(f.ids["Host"]!) && !$0.contains(f.ids["Regional"]!) }, "observers are not participants")
        let invitations = invited.map(\.count).reduce(0, +)
        let spoke = 3 + 1 + 0
        let leadHours = Double(third.scheduledTime.seconds * 1000 - thirdDistributed) / 3_600_000

        let assessment = try await f.call(service, "Assess", Convene_Assessment_V1_AssessRequest.with {
            $0.windowDays = 60; $0.toTime = .init(seconds: windowEnd / 1000)
        }, as: Convene_Assessment_V1_Assessment.self, by: "Member")
        XCTAssertEqual(assessment.meetings, 3, "the meeting after the window is not counted")
        XCTAssertEqual(assessment.meetingsByForm.map { "\($0.name)=\($0.count)" }, ["II.B=3"])
        XCTAssertEqual(assessment.meetingsByStage.map { "\($0.name)=\($0.count)" }, ["II.B.2(c)=1", "II.B.2(d)=1", "II.B.2(e)=1"])
        XCTAssertEqual(assessment.meanParticipants, Double(invitations) / 3, accuracy: 1e-9)
        XCTAssertEqual(assessment.participationShare, Double(spoke) / Double(invitations), accuracy: 1e-9)
        XCTAssertEqual(assessment.reportsDistributed, 2, "both reports were distributed in the window")
        XCTAssertEqual(assessment.reportsCountedForLeadTime, 1, "only the report whose meeting is in the window")
        XCTAssertEqual(assessment.meanReportLeadHours, leadHours, accuracy: 0.001)
        XCTAssertEqual(assessment.informalPaperShare, 1)
        XCTAssertEqual(assessment.concernsRaised, 0)

        // The principals the plugins act under (parties of kind PLUGIN) were never invited.
        let parties = try await f.client.unary(AM.listParties, Convene_Admin_V1_ListPartiesRequest(),
                                               as: Convene_Admin_V1_ListPartiesResponse.self, options: .bearer(try f.adminToken)).parties
        let principals = Set(parties.filter { $0.kind == .plugin }.map(\.id))
        XCTAssertTrue(invited.allSatisfy { $0.isDisjoint(with: principals) })

        // A window of the last day holds none of these meetings, and no report's meeting.
        let recent = try await f.call(service, "Assess", Convene_Assessment_V1_AssessRequest.with { $0.windowDays = 1 },
                                      as: Convene_Assessment_V1_Assessment.self, by: "Secretariat")
        XCTAssertEqual(recent.meetings, 0)
        XCTAssertEqual(recent.reportsCountedForLeadTime, 0)
        XCTAssertEqual(recent.meanReportLeadHours, 0)
    }

    /// The figures cover every operation and meeting the caller may see, past the 500 a page
    /// of a listing holds: a meeting of the 502nd operation is counted.
    func testTheAssessmentCoversOperationsPastTheFirstPageOfTheirListing() async throws {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let client = f.client!, secretariat = f.options("Secretariat")
        for batch in stride(from: 0, to: 500, by: 50) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in batch..<batch + 50 {
                    group.addTask {
                        _ = try await client.unary(CM.createOperation, Convene_Consultation_V1_CreateOperationRequest.with {
                            $0.name = "Operation \(index)"; $0.mandate = "Observe"; $0.phase = .planning
                        }, as: Convene_Consultation_V1_Operation.self, options: secretariat)
                    }
                }
                try await group.waitForAll()
            }
        }
        let late = try await f.makeOperation(name: "The 502nd")
        func meetingsAssessed() async throws -> Int32 {
            try await f.call(service, "Assess", Convene_Assessment_V1_AssessRequest.with { $0.windowDays = 30 },
                             as: Convene_Assessment_V1_Assessment.self, by: "Secretariat").meetings
        }
        let before = try await meetingsAssessed()
        _ = try await f.convene(late, stage: .mandateRenewal, at: now - day, pastReason: "Held before the consultations were recorded here")
        let after = try await meetingsAssessed()
        XCTAssertEqual(after, before + 1, "the meeting of the 502nd operation is counted")
    }
}
