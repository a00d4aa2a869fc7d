import ConveneClient
import ConveneProtos
import ConveneRPC
import ConveneTransport
import Foundation
import XCTest

/// A flag (II.B.5(b): a report distributed late, a contributors' meeting after the Council
/// members' discussion) naming the Council members' own consultations is read only by those
/// who may see them: a troop contributor learns neither that they exist nor when, through the
/// meeting, the report's list or the operation's events.
final class FlagConfinementTests: OperationTestCase {
    func testAFlagNamingAMeetingReachesOnlyThoseWhoMaySeeIt() async throws {
        let report = try await f.client.briefing.publishReport(.with {
            $0.operationID = operation; $0.symbol = "S/2026/1"; $0.title = "Report of the Secretary-General"
            $0.requestedByCouncil = true
        }, options: f.options("Secretariat"))
        let hour: Int64 = 3_600_000
        let council = try await f.convene(operation, form: .councilConsultations, at: f.now + 24 * hour, paper: false,
                                          reportID: report.id)
        let contributors = try await f.convene(operation, at: f.now + 30 * hour, reportID: report.id, lateReason: "the report came late")
        XCTAssertTrue(contributors.flags.contains { $0.contains(council.id) }, "the President reads the order flag: \(contributors.flags)")
        let distributed = try await f.client.briefing.distributeReport(.with {
            $0.reportID = report.id; $0.meetingID = contributors.id; $0.lateReason = "the translation was late"
        }, options: f.options("Secretariat"))
        XCTAssertTrue(distributed.flags.contains { $0.contains(council.id) }, "the Secretariat reads it: \(distributed.flags)")
        _ = try await f.client.unary(CM.updateMandate, Convene_Consultation_V1_UpdateMandateRequest.with {
            $0.operationID = operation; $0.mandate = "Monitor and verify"
        }, as: Convene_Consultation_V1_Operation.self, options: f.options("President"))

        func told(_ party: String) async throws -> [String] {
            var texts: [String] = []
            if let meeting = try? await f.client.unary(CM.getMeeting, Convene_Consultation_V1_GetMeetingRequest.with {
                $0.meetingID = contributors.id
            }, as: Convene_Consultation_V1_Meeting.self, options: f.options(party)) {
                texts += meeting.flags + [meeting.lateReason]
            }
            let reports = try await f.client.briefing.listReports(.with { $0.operationID = operation }, options: f.options(party))
            texts += reports.reports.flatMap(\.flags) + reports.reports.map(\.lateReason)
            // When the report went out tells of the meeting it went to.
            for report in reports.reports where report.meetingID.isEmpty {
                XCTAssertFalse(report.hasDistributeTime, "\(party) reads when the report went to a meeting it does not see")
            }
            let watch = try await f.client.serverStreaming(CM.watchOperation, Convene_Consultation_V1_WatchOperationRequest.with {
                $0.operationID = operation
            }, as: Convene_Consultation_V1_OperationEvent.self, options: f.options(party))
            for try await event in watch.responses {
                texts.append(event.description_p)
                if event.kind == "mandate.updated" { break }
            }
            watch.cancel()
            return texts
        }
        for party in ["Troops", "Police", "Donor"] {
            await assertRPCError(.notFound) {
                _ = try await self.f.client.unary(CM.getMeeting, Convene_Consultation_V1_GetMeetingRequest.with { $0.meetingID = council.id },
                                                  as: Convene_Consultation_V1_Meeting.self, options: self.f.options(party))
            }
            let texts = try await told(party)
            XCTAssertFalse(texts.contains { $0.contains(council.id) }, "\(party) was told of \(council.id): \(texts)")
            // The reasons given for the flags answer the hidden one too: they go with all of them.
            XCTAssertFalse(texts.contains { $0.contains("came late") || $0.contains("translation") }, "\(party): \(texts)")
        }
        let troops = try await f.client.briefing.listReports(.with { $0.operationID = operation }, options: f.options("Troops"))
        XCTAssertTrue(troops.reports.first?.flags.contains { $0.contains("before the contributors' meeting") } == true,
                      "the lead-time flag names no other meeting: the invitees keep it, \(troops.reports)")
        let secretariat = try await told("Secretariat")
        XCTAssertTrue(secretariat.contains { $0.contains(council.id) }, "\(secretariat)")
        XCTAssertTrue(secretariat.contains("the report came late") && secretariat.contains("the translation was late"), "\(secretariat)")
    }

    /// A report distributed in time for the contributors' meeting, but late for the Council
    /// members' discussion before it, is late only by a meeting the contributors do not see:
    /// their event says it was distributed, not that it was late (which would tell of that
    /// discussion); the Secretariat reads the flag.
    func testAReportLateOnlyForAHiddenDiscussionReachesTheInviteesAsDistributed() async throws {
        let report = try await f.client.briefing.publishReport(.with {
            $0.operationID = operation; $0.symbol = "S/2026/2"; $0.title = "Report of the Secretary-General"
            $0.requestedByCouncil = true
        }, options: f.options("Secretariat"))
        let hour: Int64 = 3_600_000
        let council = try await f.convene(operation, form: .councilConsultations, at: f.now + 24 * hour, paper: false,
                                          reportID: report.id)
        let contributors = try await f.convene(operation, at: f.now + 100 * hour, reportID: report.id, lateReason: "the mission was extended")
        let distributed = try await f.client.briefing.distributeReport(.with {
            $0.reportID = report.id; $0.meetingID = contributors.id; $0.lateReason = "the translation was late"
        }, options: f.options("Secretariat"))
        XCTAssertEqual(distributed.flags.count, 1)
        XCTAssertTrue(distributed.flags.allSatisfy { $0.contains(council.id) }, "\(distributed.flags)")
        _ = try await f.client.unary(CM.updateMandate, Convene_Consultation_V1_UpdateMandateRequest.with {
            $0.operationID = operation; $0.mandate = "Monitor and verify"
        }, as: Convene_Consultation_V1_Operation.self, options: f.options("President"))
        let watch = try await f.client.serverStreaming(CM.watchOperation, Convene_Consultation_V1_WatchOperationRequest.with {
            $0.operationID = operation
        }, as: Convene_Consultation_V1_OperationEvent.self, options: f.options("Troops"))
        var kinds: [String] = []
        for try await event in watch.responses {
            kinds.append(event.kind)
            if event.kind == "mandate.updated" { break }
        }
        watch.cancel()
        XCTAssertTrue(kinds.contains("report.distributed"), "\(kinds)")
        XCTAssertFalse(kinds.contains("report.distributed_late"), "the contributors learn of the Council's discussion: \(kinds)")
    }

    /// A contributor that sat on the Council when both meetings were held, and has left it:
    /// it still sees the contributors' meeting (as a contributor), but no longer the Council
    /// members' consultations it attended as a member, nor the flag that names them.
    func testAFormerCouncilMemberNoLongerReadsFlagsNamingTheCouncilsMeetings() async throws {
        func setRoles(_ roles: [Convene_Parties_V1_Role]) async throws {
            _ = try await f.client.unary(AM.setRoles, Convene_Admin_V1_SetRolesRequest.with { $0.partyID = f.ids["Troops"]!; $0.roles = roles },
                                         as: Convene_Parties_V1_Party.self, options: .bearer(try f.adminToken))
        }
        try await setRoles([.councilMember])
        let report = try await f.client.briefing.publishReport(.with {
            $0.operationID = operation; $0.symbol = "S/2026/2"; $0.title = "Report of the Secretary-General"
            $0.requestedByCouncil = true
        }, options: f.options("Secretariat"))
        let hour: Int64 = 3_600_000
        let council = try await f.convene(operation, form: .councilConsultations, at: f.now + 24 * hour, paper: false,
                                          reportID: report.id)
        let contributors = try await f.convene(operation, at: f.now + 30 * hour, reportID: report.id, lateReason: "the report came late")
        f.advance(to: f.now + 31 * hour)
        for meeting in [council, contributors] {
            _ = try await f.client.unary(CM.markMeetingHeld, Convene_Consultation_V1_MarkMeetingHeldRequest.with { $0.meetingID = meeting.id },
                                         as: Convene_Consultation_V1_Meeting.self, options: f.options("President"))
        }
        let before = try await f.client.unary(CM.getMeeting, Convene_Consultation_V1_GetMeetingRequest.with { $0.meetingID = contributors.id },
                                              as: Convene_Consultation_V1_Meeting.self, options: f.options("Troops"))
        XCTAssertTrue(before.flags.contains { $0.contains(council.id) }, "a Council member reads it: \(before.flags)")
        try await setRoles([])
        let after = try await f.client.unary(CM.getMeeting, Convene_Consultation_V1_GetMeetingRequest.with { $0.meetingID = contributors.id },
                                             as: Convene_Consultation_V1_Meeting.self, options: f.options("Troops"))
        XCTAssertFalse(after.flags.contains { $0.contains(council.id) }, "\(after.flags)")
        await assertRPCError(.notFound) {
            _ = try await self.f.client.unary(CM.getMeeting, Convene_Consultation_V1_GetMeetingRequest.with { $0.meetingID = council.id },
                                              as: Convene_Consultation_V1_Meeting.self, options: self.f.options("Troops"))
        }
    }
}
