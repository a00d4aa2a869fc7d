import ConveneClient
import ConveneProtos
import ConveneRPC
import ConveneTransport
import Foundation
import SwiftProtobuf
import XCTest

/// A meeting reaches no party that is not invited to it through any read method of any
/// mechanism plugin, nor through the plugins' events in the watch stream; and a party with no
/// part in an operation learns nothing of its plugin records (AccessRules).
final class PluginVisibilityTests: XCTestCase {
    /// Every read method of the mechanism plugins, as called below.
    static let readMethods: Set<String> = [
        "GroupsOfFriends/ListGroups", "GroupsOfFriends/ListProposedInvitations", "MilitaryStaffCommittee/ListReviews",
        "MissionTaskForces/GetTaskForce", "TrainingCentres/ListCentres", "TrainingCentres/ListTraining",
        "ReconnaissanceVisits/ListVisits", "CouncilMissions/ListMissions", "PublicInformation/ListActivities",
        "FollowUpAssessment/Assess",
    ]

    func testAMeetingReachesNoPartyNotInvitedToItThroughAnyPlugin() async throws {
        let f = try await Fixture(clock: nil)
        let w = World(f)
        try await w.build()
        let served = Set(f.server.router.methods.filter { $0.owner.hasPrefix("plugin:") }.map { AuthorizationMatrixTests.row($0.descriptor) })
        let reads = served.filter { ["Get", "List", "Search", "Watch", "Assess"].contains(where: $0.split(separator: "/").last!.hasPrefix) }
        XCTAssertEqual(reads, Self.readMethods, "every plugin read method is called below")

        // Plugin records that name meetings: a Group of Friends whose members are proposed for a
        // consultation, the task force a mission-planning consultation forms, a Council mission
        // linked to its consultation, a training record on the operation.
        let friends = "convene.friends.v1.GroupsOfFriends"
        let group = try await f.call(friends, "FormGroup", Convene_Friends_V1_FormGroupRequest.with {
            $0.operationID = w.operation; $0.name = "Friends of UNMIX"
        }, as: Convene_Friends_V1_Group.self, by: "Secretariat")
        for (member, kind) in [("Donor", Convene_Friends_V1_MemberKind.donor), ("Member", .councilMember)] {
            _ = try await f.call(friends, "AddMember", Convene_Friends_V1_AddMemberRequest.with {
                $0.groupID = group.id; $0.partyID = f.ids[member]!; $0.kind = kind
            }, as: Convene_Friends_V1_Group.self, by: "Secretariat")
        }
        _ = try await f.call("convene.missions.v1.CouncilMissions", "PlanMission", Convene_Missions_V1_PlanMissionRequest.with {
            $0.operationID = w.operation; $0.termsOfReference = "Assess the ceasefire"; $0.dates = "April"
        }, as: Convene_Missions_V1_Mission.self, by: "President")
        let planning = try await f.convene(w.operation, stage: .missionPlanning, at: f.now + 12 * w.day).id
        let mission = try await f.convene(w.operation, stage: .councilMission, at: f.now + 14 * w.day).id
        let proposed = try await eventually { () -> Bool? in
            let list = try await f.call(friends, "ListProposedInvitations", Convene_Friends_V1_ListProposedInvitationsRequest.with {
                $0.meetingID = planning
            }, as: Convene_Friends_V1_ListProposedInvitationsResponse.self, by: "Secretariat").proposals
            let force = try? await f.call("convene.taskforce.v1.MissionTaskForces", "GetTaskForce",
                                          Convene_Taskforce_V1_GetTaskForceRequest.with { $0.operationID = w.operation },
                                          as: Convene_Taskforce_V1_TaskForce.self, by: "Secretariat")
            let missions = try await f.call("convene.missions.v1.CouncilMissions", "ListMissions", Convene_Missions_V1_ListMissionsRequest.with {
                $0.operationID = w.operation
            }, as: Convene_Missions_V1_ListMissionsResponse.self, by: "Secretariat").missions
            let ready = !list.isEmpty && force?.formedByMeetingID.isEmpty == false
                && missions.contains { !$0.consultationBeforeMeetingID.isEmpty }
            return ready ? true : nil
        }
        XCTAssertEqual(proposed, true, "the plugins reacted to the meetings")

        let hidden = [w.meeting.id, planning, mission]
        for outsider in ["Donor", "Agency", "Bystander"] {
            let seen = try await readEverything(w, as: outsider, hidden: hidden)
            XCTAssertEqual(Set(seen.map(\.0)).intersection(Self.readMethods), Self.readMethods, "\(outsider) called every read method")
            for id in hidden {
                let mention = try NSRegularExpression(pattern: NSRegularExpression.escapedPattern(for: id) + "(?![0-9])")
                for (method, text) in seen where mention.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil {
                    XCTFail("\(outsider) learns of \(id) through \(method): \(text.prefix(300))")
                }
            }
            if outsider == "Donor" {
                let watched = seen.filter { $0.0 == "WatchOperation" }.map(\.1)
                XCTAssertTrue(watched.contains { $0.contains("friends.group_formed") }, "the donor sees the plugins' events on the operation")
            } else {
                // No part in the operation: none of its plugin records, only refusals or nothing.
                for (method, text) in seen where method != "TrainingCentres/ListCentres" && text.contains(w.operation + "\"") {
                    XCTFail("\(outsider) learns of a record of \(w.operation) through \(method): \(text.prefix(300))")
                }
                XCTAssertEqual(seen.filter { $0.0 == "WatchOperation" }.map { String($0.1.prefix(17)) }, ["PERMISSION_DENIED"])
            }
        }
        await f.stop()
        f.remove()
    }

    /// Calls every plugin read method as `party` (and the watch); the text of each answer or refusal.
    func readEverything(_ w: World, as party: String, hidden: [String]) async throws -> [(String, String)] {
        let f = w.f
        var seen: [(String, String)] = []
        func record<R: SwiftProtobuf.Message>(_ row: String, _ request: some SwiftProtobuf.Message, as: R.Type) async {
            let parts = row.split(separator: "/")
            let service = f.server.router.methods.map(\.descriptor).first { $0.service.hasSuffix("." + parts[0]) }?.service ?? ""
            do {
                seen.append((row, try await f.call(service, String(parts[1]), request, as: R.self, by: party).textFormatString()))
            } catch {
                seen.append((row, "\(RPCError.from(error).code.name): \(RPCError.from(error).message)"))
            }
        }
        let op = w.operation
        await record("GroupsOfFriends/ListGroups", Convene_Friends_V1_ListGroupsRequest(), as: Convene_Friends_V1_ListGroupsResponse.self)
        await record("GroupsOfFriends/ListGroups", Convene_Friends_V1_ListGroupsRequest.with { $0.operationID = op },
                     as: Convene_Friends_V1_ListGroupsResponse.self)
        // Naming a hidden meeting answers as naming an absent one (the id, which the caller gave, aside).
        var answers: [String] = []
        for id in hidden + ["mtg-999999"] {
            await record("GroupsOfFriends/ListProposedInvitations", Convene_Friends_V1_ListProposedInvitationsRequest.with { $0.meetingID = id },
                         as: Convene_Friends_V1_ListProposedInvitationsResponse.self)
            answers.append(seen.removeLast().1.replacingOccurrences(of: id, with: "<id>"))
        }
        XCTAssertEqual(Set(answers), ["NOT_FOUND: meeting_id: no meeting <id>"], "\(party): a hidden meeting answers as an absent one")
        seen.append(("GroupsOfFriends/ListProposedInvitations", answers.joined(separator: "; ")))
        await record("MilitaryStaffCommittee/ListReviews", Convene_Msc_V1_ListReviewsRequest(), as: Convene_Msc_V1_ListReviewsResponse.self)
        await record("MilitaryStaffCommittee/ListReviews", Convene_Msc_V1_ListReviewsRequest.with { $0.operationID = op },
                     as: Convene_Msc_V1_ListReviewsResponse.self)
        await record("MissionTaskForces/GetTaskForce", Convene_Taskforce_V1_GetTaskForceRequest.with { $0.operationID = op },
                     as: Convene_Taskforce_V1_TaskForce.self)
        await record("TrainingCentres/ListCentres", Convene_Training_V1_ListCentresRequest(), as: Convene_Training_V1_ListCentresResponse.self)
        await record("TrainingCentres/ListTraining", Convene_Training_V1_ListTrainingRequest(), as: Convene_Training_V1_ListTrainingResponse.self)
        await record("ReconnaissanceVisits/ListVisits", Convene_Recon_V1_ListVisitsRequest(), as: Convene_Recon_V1_ListVisitsResponse.self)
        await record("ReconnaissanceVisits/ListVisits", Convene_Recon_V1_ListVisitsRequest.with { $0.operationID = op },
                     as: Convene_Recon_V1_ListVisitsResponse.self)
        await record("CouncilMissions/ListMissions", Convene_Missions_V1_ListMissionsRequest.with { $0.operationID = op },
                     as: Convene_Missions_V1_ListMissionsResponse.self)
        await record("PublicInformation/ListActivities", Convene_Publicinfo_V1_ListActivitiesRequest.with { $0.operationID = op },
                     as: Convene_Publicinfo_V1_ListActivitiesResponse.self)
        await record("FollowUpAssessment/Assess", Convene_Assessment_V1_AssessRequest(), as: Convene_Assessment_V1_Assessment.self)

        // The watch, plugins' events included: everything committed so far, up to a sentinel.
        seen += try await w.watchedUntilSentinel(as: party).map { ("WatchOperation", $0) }
        return seen
    }
}
