import ConveneClient
import ConveneProtos
import ConveneRPC
import ConveneTransport
import Foundation
import SwiftProtobuf

/// The mechanism plugins under the same rules as the services: the administrator administers
/// and calls no plugin, a party with no part in the operation learns nothing of its plugin
/// records, Groups of Friends (I.C.2) are the Secretary-General's with members the resolution
/// names, and the six-month assessment (I.D.1, OP.3) counts what a person would count.
extension DemoPlay {
    typealias GM = GroupsOfFriendsMethods

    func mechanisms(_ op: String) async throws {
        say("== The mechanisms (Annex I), under the same rules")
        let form = Convene_Friends_V1_FormGroupRequest.with { $0.operationID = op; $0.name = "Friends of the Secretary-General on \(op)" }
        try await refused(.permissionDenied, GM.formGroup, form, as: Convene_Friends_V1_Group.self, by: "admin")
        try await refused(.permissionDenied, GM.formGroup, form, as: Convene_Friends_V1_Group.self, by: "tamaris")
        let group = try await call(GM.formGroup, form, as: Convene_Friends_V1_Group.self, by: "secretariat")
        say("  The Secretariat forms \(group.id), '\(group.name)' (I.C.2).")
        for (party, kind) in [("tamaris", Convene_Friends_V1_MemberKind.contributor), ("wendt", .donor), ("veloria", .countryOfTheRegion)] {
            _ = try await call(GM.addMember, Convene_Friends_V1_AddMemberRequest.with {
                $0.groupID = group.id; $0.partyID = ids[party]!; $0.kind = kind
            }, as: Convene_Friends_V1_Group.self, by: "secretariat")
        }
        try await refused(.failedPrecondition, GM.addMember, Convene_Friends_V1_AddMemberRequest.with {
            $0.groupID = group.id; $0.partyID = ids["ostland"]!; $0.kind = .countryOfTheRegion
        }, as: Convene_Friends_V1_Group.self, by: "secretariat")
        try await refused(.permissionDenied, GM.listGroups, Convene_Friends_V1_ListGroupsRequest.with { $0.operationID = op },
                          as: Convene_Friends_V1_ListGroupsResponse.self, by: "ostland")

        // A consultation convened now: the members it does not invite are put before the President,
        // each in its II.B.3 category with the reason (or why it cannot be invited).
        let meeting = try await convene(op, stage: .significantDevelopments, at: now + 10 * day)
        var proposals: [Convene_Friends_V1_ProposedInvitation] = []
        for _ in 0..<250 where proposals.isEmpty {
            proposals = try await call(GM.listProposedInvitations, Convene_Friends_V1_ListProposedInvitationsRequest.with {
                $0.meetingID = meeting.id
            }, as: Convene_Friends_V1_ListProposedInvitationsResponse.self, by: "president").proposals
            if proposals.isEmpty { try await Task.sleep(for: .milliseconds(20)) }
        }
        for proposal in proposals {
            let name = Self.cast.first { ids[$0.0] == proposal.partyID }?.1 ?? proposal.partyID
            say("  Proposed for \(meeting.id): \(name), \(proposal.suggestedCategory.isEmpty ? "cannot be invited" : proposal.suggestedCategory): \(proposal.reason).")
        }
        count("friends_proposals", proposals.count)

        // The six-month assessment, over a window reaching the meetings to come.
        let assessment = try await call(FollowUpAssessmentMethods.assess, Convene_Assessment_V1_AssessRequest.with {
            $0.windowDays = 190; $0.toTime = timestamp(now + 10 * day)
        }, as: Convene_Assessment_V1_Assessment.self, by: "president")
        say("  Assessment (I.D.1, OP.3): \(assessment.meetings) meetings; \(String(format: "%.2f", assessment.meanParticipants)) invited participants a meeting, \(Int((assessment.participationShare * 100).rounded(.down)))% of whom spoke; reports \(String(format: "%.1f", assessment.meanReportLeadHours)) h ahead on average, over the \(assessment.reportsCountedForLeadTime) distributed in the window whose meeting is in it.")
        count("assessed_meetings", Int(assessment.meetings))
    }
}
