import ConveneClient
import ConveneProtos
import ConveneRPC
import ConveneTransport
import Foundation
import NIOCore
import SwiftProtobuf
import XCTest

/// Who may call the mechanism plugins' methods: every method of every plugin built with the
/// server, called against a real server by the callers the general rules are about, gets the
/// status the table says. A plugin method the router serves without a row fails the test.
final class PluginAuthorizationMatrixTests: XCTestCase {
    /// The callers, in the table's column order: no token, a revoked token, the administrator
    /// (refused by the plugin host for every plugin, before the plugin runs), and a stranger to
    /// the World's operation (no role, contribution or invitation on it: it learns nothing of
    /// the operation's records beyond its existence, AccessRules).
    static let callers = ["none", "revoked", "admin", "Bystander"]

    /// OK, or the refusal: U unauthenticated, P permission denied, N not found, F failed precondition.
    static let matrix: [String: String] = [
        //                                            none rev  adm  Strg
        "GroupsOfFriends/FormGroup":                 "U    U    P    P",
        "GroupsOfFriends/AddMember":                 "U    U    P    N",
        "GroupsOfFriends/ListGroups":                "U    U    P    P",
        "GroupsOfFriends/RecordCoordination":        "U    U    P    N",
        "GroupsOfFriends/ListProposedInvitations":   "U    U    P    N",
        "MilitaryStaffCommittee/ListReviews":        "U    U    P    P",
        "MilitaryStaffCommittee/SubmitFinding":      "U    U    P    P",
        "MilitaryStaffCommittee/CloseReview":        "U    U    P    P",
        "MissionTaskForces/GetTaskForce":            "U    U    P    P",
        "MissionTaskForces/AddMember":               "U    U    P    P",
        "MissionTaskForces/AddTask":                 "U    U    P    P",
        "MissionTaskForces/UpdateTask":              "U    U    P    P",
        "TrainingCentres/RegisterCentre":            "U    U    P    P",
        "TrainingCentres/ListCentres":               "U    U    P    OK",
        "TrainingCentres/RequestSupport":            "U    U    P    N",
        "TrainingCentres/DecideSupport":             "U    U    P    P",
        "TrainingCentres/RecordTraining":            "U    U    P    P",
        "TrainingCentres/ListTraining":              "U    U    P    OK",
        "ReconnaissanceVisits/RequestVisit":         "U    U    P    P",
        "ReconnaissanceVisits/ScheduleVisit":        "U    U    P    P",
        "ReconnaissanceVisits/DeclineVisit":         "U    U    P    P",
        "ReconnaissanceVisits/RequestSupport":       "U    U    P    N",
        "ReconnaissanceVisits/AnswerSupport":        "U    U    P    P",
        "ReconnaissanceVisits/SubmitReport":         "U    U    P    N",
        "ReconnaissanceVisits/ListVisits":           "U    U    P    P",
        "CouncilMissions/PlanMission":               "U    U    P    P",
        "CouncilMissions/RecordConclusions":         "U    U    P    P",
        "CouncilMissions/Acknowledge":               "U    U    P    N",
        "CouncilMissions/ListMissions":              "U    U    P    P",
        "PublicInformation/LaunchCampaign":          "U    U    P    P",
        "PublicInformation/AddProgramme":            "U    U    P    P",
        "PublicInformation/ListActivities":          "U    U    P    P",
        "FollowUpAssessment/Assess":                 "U    U    P    P",
        "FollowUpAssessment/SubmitProposal":         "U    U    P    P",
    ]

    static let codes: [String: StatusCode] = [
        "OK": .ok, "U": .unauthenticated, "P": .permissionDenied, "N": .notFound, "F": .failedPrecondition,
    ]

    /// A representative request of each method, naming the World's operation and meeting, a
    /// group formed on it, and ids of records of other kinds.
    static func requests(_ w: World, group: String) -> [String: any SwiftProtobuf.Message] {
        let op = w.operation, meeting = w.meeting.id, party = w.id("Troops")
        return [
            "GroupsOfFriends/FormGroup": Convene_Friends_V1_FormGroupRequest.with { $0.operationID = op; $0.name = "Friends" },
            "GroupsOfFriends/AddMember": Convene_Friends_V1_AddMemberRequest.with {
                $0.groupID = group; $0.partyID = party; $0.kind = .contributor
            },
            "GroupsOfFriends/ListGroups": Convene_Friends_V1_ListGroupsRequest.with { $0.operationID = op },
            "GroupsOfFriends/RecordCoordination": Convene_Friends_V1_RecordCoordinationRequest.with { $0.groupID = group; $0.note = "Met" },
            "GroupsOfFriends/ListProposedInvitations": Convene_Friends_V1_ListProposedInvitationsRequest.with { $0.meetingID = meeting },
            "MilitaryStaffCommittee/ListReviews": Convene_Msc_V1_ListReviewsRequest.with { $0.operationID = op },
            "MilitaryStaffCommittee/SubmitFinding": Convene_Msc_V1_SubmitFindingRequest.with { $0.reviewID = "rev-1"; $0.text = "Finding" },
            "MilitaryStaffCommittee/CloseReview": Convene_Msc_V1_CloseReviewRequest.with { $0.reviewID = "rev-1"; $0.conclusion = "Done" },
            "MissionTaskForces/GetTaskForce": Convene_Taskforce_V1_GetTaskForceRequest.with { $0.operationID = op },
            "MissionTaskForces/AddMember": Convene_Taskforce_V1_AddMemberRequest.with { $0.operationID = op; $0.name = "A"; $0.department = "DPKO" },
            "MissionTaskForces/AddTask": Convene_Taskforce_V1_AddTaskRequest.with { $0.operationID = op; $0.title = "Plan"; $0.owner = "A" },
            "MissionTaskForces/UpdateTask": Convene_Taskforce_V1_UpdateTaskRequest.with { $0.operationID = op; $0.taskID = "task-1" },
            "TrainingCentres/RegisterCentre": Convene_Training_V1_RegisterCentreRequest.with {
                $0.name = "Centre"; $0.hostPartyID = party; $0.region = "Africa"
            },
            "TrainingCentres/ListCentres": Convene_Training_V1_ListCentresRequest(),
            "TrainingCentres/RequestSupport": Convene_Training_V1_RequestSupportRequest.with { $0.centreID = "centre-999"; $0.description_p = "Aid" },
            "TrainingCentres/DecideSupport": Convene_Training_V1_DecideSupportRequest.with { $0.requestID = "support-999" },
            "TrainingCentres/RecordTraining": Convene_Training_V1_RecordTrainingRequest.with {
                $0.centreID = "centre-999"; $0.partyID = party; $0.operationID = op; $0.course = "Course"; $0.trainees = 3
            },
            "TrainingCentres/ListTraining": Convene_Training_V1_ListTrainingRequest(),
            "ReconnaissanceVisits/RequestVisit": Convene_Recon_V1_RequestVisitRequest.with { $0.operationID = op; $0.purpose = "See"; $0.teamSize = 3 },
            "ReconnaissanceVisits/ScheduleVisit": Convene_Recon_V1_ScheduleVisitRequest.with { $0.visitID = "visit-999"; $0.dates = "May" },
            "ReconnaissanceVisits/DeclineVisit": Convene_Recon_V1_DeclineVisitRequest.with { $0.visitID = "visit-999"; $0.reason = "No" },
            "ReconnaissanceVisits/RequestSupport": Convene_Recon_V1_RequestSupportRequest.with { $0.visitID = "visit-999"; $0.need = "Car" },
            "ReconnaissanceVisits/AnswerSupport": Convene_Recon_V1_AnswerSupportRequest.with { $0.visitID = "visit-999"; $0.answer = "Yes" },
            "ReconnaissanceVisits/SubmitReport": Convene_Recon_V1_SubmitReportRequest.with { $0.visitID = "visit-999"; $0.report = "Seen" },
            "ReconnaissanceVisits/ListVisits": Convene_Recon_V1_ListVisitsRequest.with { $0.operationID = op },
            "CouncilMissions/PlanMission": Convene_Missions_V1_PlanMissionRequest.with {
                $0.operationID = op; $0.termsOfReference = "Terms"; $0.dates = "June"
            },
            "CouncilMissions/RecordConclusions": Convene_Missions_V1_RecordConclusionsRequest.with {
                $0.missionID = "mission-999"; $0.conclusions = "Held"
            },
            "CouncilMissions/Acknowledge": Convene_Missions_V1_AcknowledgeRequest.with { $0.missionID = "mission-999" },
            "CouncilMissions/ListMissions": Convene_Missions_V1_ListMissionsRequest.with { $0.operationID = op },
            "PublicInformation/LaunchCampaign": Convene_Publicinfo_V1_LaunchCampaignRequest.with {
                $0.operationID = op; $0.audience = .local; $0.message = "Peace"
            },
            "PublicInformation/AddProgramme": Convene_Publicinfo_V1_AddProgrammeRequest.with {
                $0.operationID = op; $0.countryPartyID = w.id("Bystander"); $0.title = "Ours"
            },
            "PublicInformation/ListActivities": Convene_Publicinfo_V1_ListActivitiesRequest.with { $0.operationID = op },
            "FollowUpAssessment/Assess": Convene_Assessment_V1_AssessRequest(),
            "FollowUpAssessment/SubmitProposal": Convene_Assessment_V1_SubmitProposalRequest.with { $0.text = "A monthly briefing" },
        ]
    }

    func testEveryPluginMethodAnswersEachCallerAsTheTableSays() async throws {
        let f = try await Fixture(clock: nil)
        let w = World(f)
        try await w.build()
        let revoked = try await w.credential(for: "Troops")
        _ = try await f.client.administration.revokeCredential(.with { $0.credentialID = revoked.credentialID },
                                                               options: .bearer(try f.adminToken))
        let group = try await f.call("convene.friends.v1.GroupsOfFriends", "FormGroup", Convene_Friends_V1_FormGroupRequest.with {
            $0.operationID = w.operation; $0.name = "Friends of UNMIX"
        }, as: Convene_Friends_V1_Group.self, by: "Secretariat").id
        func options(_ caller: String) throws -> CallOptions {
            switch caller {
            case "none": CallOptions(timeout: .seconds(30))
            case "revoked": .bearer(revoked.token, timeout: .seconds(30))
            case "admin": .bearer(try f.adminToken, timeout: .seconds(30))
            default: .bearer(f.tokens[caller]!, timeout: .seconds(30))
            }
        }

        // The plugins' methods the router serves and the table's rows are the same set.
        let served = Set(f.server.router.methods.filter { $0.owner.hasPrefix("plugin:") }.map { AuthorizationMatrixTests.row($0.descriptor) })
        XCTAssertGreaterThan(served.count, 30, "the mechanism plugins are loaded")
        XCTAssertEqual(served.subtracting(Self.matrix.keys).sorted(), [], "plugin methods without a row in the matrix")
        XCTAssertEqual(Set(Self.matrix.keys).subtracting(served).sorted(), [], "rows for methods the router does not serve")
        let requests = Self.requests(w, group: group)
        XCTAssertEqual(Set(requests.keys), Set(Self.matrix.keys), "a request per row")
        let paths = Dictionary(uniqueKeysWithValues: f.server.router.methods.map {
            (AuthorizationMatrixTests.row($0.descriptor), "/\($0.descriptor.service)/\($0.descriptor.method)")
        })

        for (method, row) in Self.matrix.sorted(by: { $0.key < $1.key }) {
            let expected = row.split(separator: " ").map(String.init)
            XCTAssertEqual(expected.count, Self.callers.count, "\(method): a cell per caller")
            guard let request = requests[method], let path = paths[method] else { continue }
            let bytes: [UInt8] = try request.serializedBytes()
            for (caller, cell) in zip(Self.callers, expected) {
                let got: StatusCode
                var message = ""
                do {
                    _ = try await f.client.unary(path: path, request: ByteBuffer(bytes: bytes), options: try options(caller))
                    got = .ok
                } catch {
                    got = RPCError.from(error).code
                    message = RPCError.from(error).message
                }
                XCTAssertEqual(got, Self.codes[cell], "\(method) as \(caller): \(cell) expected, got \(got.name): \(message)")
                if caller == "admin" {
                    XCTAssertTrue(message.contains("the administrator's credential administers parties, credentials and plugins only"),
                                  "\(method): \(message)")
                }
            }
        }
        await f.stop()
        f.remove()
    }
}
