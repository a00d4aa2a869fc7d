import ConveneClient
import ConveneProtos
import ConveneRPC
import ConveneTransport
import Foundation
import NIOCore
import XCTest

typealias PM = PluginAdministrationMethods

/// The plugin host through the real server: built plugins, loader errors, a C plugin's
/// behaviour and events, misbehaving plugin calls, unload and reload under load.
class PluginTests: PluginTestCase {
    var bin: URL { f.pluginFolder }
    func fixture(_ name: String) -> String { f.fixture(name) }
    func load(_ path: String) async throws -> Convene_Plugins_V1_PluginInfo { try await f.loadPlugin(path) }

    func raw(_ method: String, _ bytes: [UInt8], timeout: Duration? = nil) async throws -> [UInt8] {
        try await Self.raw(f.client, token: f.tokens["Troops"]!, method, bytes, timeout: timeout)
    }

    static func raw(_ client: ConveneClient, token: String, _ method: String, _ bytes: [UInt8],
                    timeout: Duration? = nil) async throws -> [UInt8] {
        Array(buffer: try await client.unary(path: "/test.Behaviour/\(method)", request: ByteBuffer(bytes: bytes),
                                             options: .bearer(token, timeout: timeout)).message)
    }

    func testBuiltPluginsAreLoadedListedAndReflected() async throws {
        let list = try await f.client.unary(PM.listPlugins, Convene_Plugins_V1_ListPluginsRequest(),
                                            as: Convene_Plugins_V1_ListPluginsResponse.self, options: f.options("Troops"))
        let friends = try XCTUnwrap(list.plugins.first { $0.name == "groups-of-friends" })
        XCTAssertEqual(friends.abiVersion, "1.3")
        XCTAssertEqual(friends.status, .serving)
        XCTAssertEqual(friends.isolation, Self.isolation.rawValue)
        XCTAssertEqual(friends.file, "", "where the library is on the server is for administrators")
        XCTAssertEqual(friends.events, ["meeting.convened"])
        XCTAssertTrue(friends.methods.contains("convene.friends.v1.GroupsOfFriends/FormGroup"))
        XCTAssertFalse(list.plugins.contains { $0.name == "behaviour" }, "fixtures are not loaded by default")

        let services = try await f.client.reflection.listServices().services
        let reflected = try XCTUnwrap(services.first { $0.name == "convene.friends.v1.GroupsOfFriends" })
        XCTAssertEqual(reflected.file, "convene/friends/v1/friends.proto")
        XCTAssertEqual(reflected.methods.first { $0.name == "FormGroup" }?.inputType, "convene.friends.v1.FormGroupRequest")
    }

    func testEachLoaderErrorNamesTheFileAndTheReason() async throws {
        let cases: [(String, String)] = [
            (fixture("NoEntry"), "no entry symbol 'convene_plugin_entry'"),
            (fixture("WrongMajor"), "built for plugin ABI 99.x; this server speaks 1.x"),
            (fixture("FailingInit"), "configuration file /etc/convene/failing.conf is missing"),
            (fixture("Duplicate"), "a plugin named 'groups-of-friends' is already loaded"),
            (fixture("Nothing"), "cannot be loaded"),
        ]
        for (path, reason) in cases {
            let error = await assertRPCError(.failedPrecondition) { try await self.load(path) }
            XCTAssertTrue(error?.message.hasPrefix(path) ?? false, error?.message ?? "")
            XCTAssertTrue(error?.message.contains(reason) ?? false, "'\(error?.message ?? "")' lacks '\(reason)'")
        }
        await assertRPCError(.permissionDenied) {
            try await self.f.client.unary(PM.loadPlugin, Convene_Plugins_V1_LoadPluginRequest.with { $0.path = self.fixture("Behaviour") },
                                          as: Convene_Plugins_V1_PluginInfo.self, options: self.f.options("Secretariat"))
        }
        // The server is fine and still serves the good plugin.
        let list = try await f.client.unary(PM.listPlugins, Convene_Plugins_V1_ListPluginsRequest(),
                                            as: Convene_Plugins_V1_ListPluginsResponse.self, options: f.options("Troops"))
        XCTAssertEqual(list.plugins.map(\.name), ["council-missions", "follow-up-assessment", "groups-of-friends",
                                                  "military-staff-committee", "mission-task-forces", "public-information",
                                                  "reconnaissance-visits", "training-centres"])
    }

    func testGroupsOfFriendsAndTheirProposedInvitations() async throws {
        let operation = try await f.makeOperation()
        typealias G = Convene_Friends_V1_Group
        func call<R: SwiftProtobuf.Message>(_ method: String, _ request: some SwiftProtobuf.Message, as: R.Type) async throws -> R {
            try await f.client.unary(MethodDescriptor(service: "convene.friends.v1.GroupsOfFriends", method: method, kind: .unary),
                                     request, as: R.self, options: f.options("Secretariat"))
        }
        await assertRPCError(.notFound) {
            try await call("FormGroup", Convene_Friends_V1_FormGroupRequest.with { $0.operationID = "op-99"; $0.name = "x" }, as: G.self)
        }
        let group = try await call("FormGroup", Convene_Friends_V1_FormGroupRequest.with {
            $0.operationID = operation; $0.name = "Friends of UNMIX"
        }, as: G.self)
        XCTAssertEqual(group.id, "grp-1")
        _ = try await call("AddMember", Convene_Friends_V1_AddMemberRequest.with {
            $0.groupID = group.id; $0.partyID = f.ids["Troops"]!; $0.kind = .contributor
        }, as: G.self)
        _ = try await call("AddMember", Convene_Friends_V1_AddMemberRequest.with {
            $0.groupID = group.id; $0.partyID = f.ids["Donor"]!; $0.kind = .donor
        }, as: G.self)
        await assertRPCError(.alreadyExists) {
            try await call("AddMember", Convene_Friends_V1_AddMemberRequest.with {
                $0.groupID = group.id; $0.partyID = self.f.ids["Donor"]!; $0.kind = .donor
            }, as: G.self)
        }
        // I.C.2: the groups are the Secretary-General's (the Secretariat forms them and adds their
        // members); members are Council members, contributors (troops or donations), potential
        // contributors and the host country. The rules are ConveneDomain's FriendsRules, asked through the host.
        func by<R: SwiftProtobuf.Message>(_ party: String, _ method: String, _ request: some SwiftProtobuf.Message, as: R.Type) async throws -> R {
            try await f.call("convene.friends.v1.GroupsOfFriends", method, request, as: R.self, by: party)
        }
        await assertRPCError(.permissionDenied, containing: "formed by the Secretary-General, whose staff is the Secretariat (I.C.2)") {
            try await by("Troops", "FormGroup", Convene_Friends_V1_FormGroupRequest.with { $0.operationID = operation; $0.name = "x" }, as: G.self)
        }
        await assertRPCError(.permissionDenied, containing: "I.C.2") {
            try await by("President", "AddMember", Convene_Friends_V1_AddMemberRequest.with {
                $0.groupID = group.id; $0.partyID = self.f.ids["Police"]!; $0.kind = .contributor
            }, as: G.self)
        }
        for outsider in ["Bystander", "Agency"] {
            await assertRPCError(.failedPrecondition, containing: "cannot be a member of a Group of Friends: neither a Council member") {
                try await call("AddMember", Convene_Friends_V1_AddMemberRequest.with {
                    $0.groupID = group.id; $0.partyID = self.f.ids[outsider]!; $0.kind = .countryOfTheRegion
                }, as: G.self)
            }
        }
        await assertRPCError(.notFound, containing: "party_id: no party party-999") {
            try await call("AddMember", Convene_Friends_V1_AddMemberRequest.with {
                $0.groupID = group.id; $0.partyID = "party-999"; $0.kind = .donor
            }, as: G.self)
        }
        // A member is recorded as what it is: the kinds that fit are FriendsRules', asked through the host.
        for (member, kind, what) in [("Member", Convene_Friends_V1_MemberKind.donor, "a member of the Security Council (I.C.2)"),
                                     ("Host", .contributor, "a country of the region (I.C.2)"),
                                     ("Donor", .councilMember, "a donor (I.C.2)")] {
            await assertRPCError(.failedPrecondition, containing: "kind: \(kind == .donor ? "DONOR" : kind == .contributor ? "CONTRIBUTOR" : "COUNCIL_MEMBER") does not fit") {
                try await call("AddMember", Convene_Friends_V1_AddMemberRequest.with {
                    $0.groupID = group.id; $0.partyID = self.f.ids[member]!; $0.kind = kind
                }, as: G.self)
            }
            await assertRPCError(.failedPrecondition, containing: what) {
                try await call("AddMember", Convene_Friends_V1_AddMemberRequest.with {
                    $0.groupID = group.id; $0.partyID = self.f.ids[member]!; $0.kind = kind
                }, as: G.self)
            }
        }
        for (member, kind) in [("Member", Convene_Friends_V1_MemberKind.councilMember), ("Host", .countryOfTheRegion)] {
            _ = try await call("AddMember", Convene_Friends_V1_AddMemberRequest.with {
                $0.groupID = group.id; $0.partyID = f.ids[member]!; $0.kind = kind
            }, as: G.self)
        }
        // Coordination is recorded by the Secretariat or the group's members.
        await assertRPCError(.permissionDenied, containing: "the Secretariat or the group's members (I.C.2)") {
            try await by("Police", "RecordCoordination", Convene_Friends_V1_RecordCoordinationRequest.with {
                $0.groupID = group.id; $0.note = "x"
            }, as: G.self)
        }
        let coordinated = try await call("RecordCoordination", Convene_Friends_V1_RecordCoordinationRequest.with {
            $0.groupID = group.id; $0.note = "Briefed the Council President on the ceasefire talks"
        }, as: G.self)
        XCTAssertEqual(coordinated.members.count, 4)
        XCTAssertEqual(coordinated.coordinationNotes, ["Briefed the Council President on the ceasefire talks"])

        // A consultation that invites Troops (II.B.3(a)) but not the Donor: the Donor is put before the President.
        let meeting = try await f.convene(operation)
        var proposals: [Convene_Friends_V1_ProposedInvitation] = []
        for _ in 0..<200 where proposals.isEmpty {
            proposals = try await call("ListProposedInvitations", Convene_Friends_V1_ListProposedInvitationsRequest.with {
                $0.meetingID = meeting.id
            }, as: Convene_Friends_V1_ListProposedInvitationsResponse.self).proposals
            if proposals.isEmpty { try await Task.sleep(for: .milliseconds(20)) }
        }
        // The Council member is invited (II.B.1); the donor and the host country are put before the
        // President in the category the server's InvitationRules give them, with the reason.
        let byParty = Dictionary(uniqueKeysWithValues: proposals.map { ($0.partyID, $0) })
        XCTAssertEqual(Set(byParty.keys), Set([f.ids["Donor"]!, f.ids["Host"]!]))
        XCTAssertEqual(byParty[f.ids["Donor"]!]?.suggestedCategory, "II.B.3(e)")
        XCTAssertEqual(byParty[f.ids["Host"]!]?.suggestedCategory, "II.B.3(f)")
        XCTAssertTrue(byParty.values.allSatisfy { !$0.reason.isEmpty }, "\(proposals)")

        // Plugin storage is durable across a restart.
        await f.server.shutDown()
        try await f.startServer(port: f.port)
        let groups = try await call("ListGroups", Convene_Friends_V1_ListGroupsRequest.with { $0.operationID = operation },
                                    as: Convene_Friends_V1_ListGroupsResponse.self)
        XCTAssertEqual(groups.groups.map(\.name), ["Friends of UNMIX"])
        XCTAssertEqual(groups.groups.first?.members.count, 4)
    }

    func testTrainingCentresPluginWrittenInSwift() async throws {
        let list = try await f.client.unary(PM.listPlugins, Convene_Plugins_V1_ListPluginsRequest(),
                                            as: Convene_Plugins_V1_ListPluginsResponse.self, options: f.options("Troops"))
        XCTAssertEqual(list.plugins.first { $0.name == "training-centres" }?.service, "convene.training.v1.TrainingCentres")
        func call<R: SwiftProtobuf.Message>(_ method: String, _ request: some SwiftProtobuf.Message, as: R.Type,
                                            by party: String) async throws -> R {
            try await f.client.unary(MethodDescriptor(service: "convene.training.v1.TrainingCentres", method: method, kind: .unary),
                                     request, as: R.self, options: f.options(party))
        }
        await assertRPCError(.permissionDenied, containing: "Secretariat") {
            try await call("RegisterCentre", Convene_Training_V1_RegisterCentreRequest.with {
                $0.name = "x"; $0.hostPartyID = self.f.ids["Host"]!
            }, as: Convene_Training_V1_Centre.self, by: "Troops")
        }
        // A centre's host is a country (a Member State) that exists, by the server's rules
        // (CONVENE_RULE_COUNTRY), in process and isolated alike.
        let hosts: [(String, StatusCode, String)] = [
            ("party-abc", .invalidArgument, "host_party_id: 'party-abc' is not a valid party id (party-N)"),
            ("party-99999", .notFound, "host_party_id: no party party-99999"),
            (f.ids["Agency"]!, .failedPrecondition, "(Agency) is a United Nations agency, not a country (a Member State)"),
            ("", .invalidArgument, "host_party_id: a party id (party-N) is required"),
        ]
        for (host, code, message) in hosts {
            await assertRPCError(code, containing: message) {
                try await call("RegisterCentre", Convene_Training_V1_RegisterCentreRequest.with {
                    $0.name = "Ghost"; $0.hostPartyID = host
                }, as: Convene_Training_V1_Centre.self, by: "Secretariat")
            }
        }
        let centre = try await call("RegisterCentre", Convene_Training_V1_RegisterCentreRequest.with {
            $0.name = "Coastal Peace Support Training Centre"; $0.hostPartyID = f.ids["Host"]!; $0.region = "West"
        }, as: Convene_Training_V1_Centre.self, by: "Secretariat")
        await assertRPCError(.alreadyExists, containing: "\(centre.id) is named 'Coastal Peace Support Training Centre' already") {
            try await call("RegisterCentre", Convene_Training_V1_RegisterCentreRequest.with {
                $0.name = "coastal peace support training centre"; $0.hostPartyID = self.f.ids["Troops"]!
            }, as: Convene_Training_V1_Centre.self, by: "Secretariat")
        }
        await assertRPCError(.permissionDenied, containing: "I.B.1") {
            try await call("RequestSupport", Convene_Training_V1_RequestSupportRequest.with {
                $0.centreID = centre.id; $0.description_p = "Instructors"
            }, as: Convene_Training_V1_SupportRequest.self, by: "Donor")
        }
        let support = try await call("RequestSupport", Convene_Training_V1_RequestSupportRequest.with {
            $0.centreID = centre.id; $0.description_p = "Two instructors for the civilian police course"
        }, as: Convene_Training_V1_SupportRequest.self, by: "Host")
        XCTAssertEqual(support.status, .requested)
        XCTAssertEqual(support.requestedByPartyID, f.ids["Host"])
        await assertRPCError(.failedPrecondition) {
            try await call("DecideSupport", Convene_Training_V1_DecideSupportRequest.with {
                $0.requestID = support.id; $0.status = .provided
            }, as: Convene_Training_V1_SupportRequest.self, by: "Secretariat")
        }
        let approved = try await call("DecideSupport", Convene_Training_V1_DecideSupportRequest.with {
            $0.requestID = support.id; $0.status = .approved; $0.note = "From the standing police capacity"
        }, as: Convene_Training_V1_SupportRequest.self, by: "Secretariat")
        XCTAssertEqual(approved.status, .approved)

        let operation = try await f.makeOperation()
        await assertRPCError(.notFound) {
            try await call("RecordTraining", Convene_Training_V1_RecordTrainingRequest.with {
                $0.centreID = centre.id; $0.partyID = self.f.ids["Police"]!; $0.operationID = "op-99"; $0.course = "Course"; $0.trainees = 40
            }, as: Convene_Training_V1_Training.self, by: "Secretariat")
        }
        // Trainees are a country's, and training for an operation is of its peacekeepers: a
        // country with no part in it is refused (it would be named to the operation's readers).
        let trainees: [(String, String, StatusCode, String)] = [
            (f.ids["Bystander"]!, "Course", .failedPrecondition, "contributes no personnel to \(operation) and is not a potential contributor"),
            (f.ids["Donor"]!, "Course", .failedPrecondition, "contributes no personnel to \(operation)"),
            (f.ids["Regional"]!, "Course", .failedPrecondition, "not a country (a Member State)"),
            ("party-does-not-exist", "Course", .invalidArgument, "party_id: 'party-does-not-exist' is not a valid party id"),
            (f.ids["Police"]!, "", .invalidArgument, "course: required"),
        ]
        for (party, course, code, message) in trainees {
            await assertRPCError(code, containing: message) {
                try await call("RecordTraining", Convene_Training_V1_RecordTrainingRequest.with {
                    $0.centreID = centre.id; $0.partyID = party; $0.operationID = operation; $0.course = course; $0.trainees = 5
                }, as: Convene_Training_V1_Training.self, by: "Secretariat")
            }
        }
        _ = try await call("RecordTraining", Convene_Training_V1_RecordTrainingRequest.with {
            $0.centreID = centre.id; $0.partyID = f.ids["Potential"]!; $0.operationID = operation
            $0.course = "Staff officers"; $0.trainees = 12
        }, as: Convene_Training_V1_Training.self, by: "Secretariat")
        _ = try await call("RecordTraining", Convene_Training_V1_RecordTrainingRequest.with {
            $0.centreID = centre.id; $0.partyID = f.ids["Police"]!; $0.operationID = operation
            $0.course = "Formed police units"; $0.trainees = 40
        }, as: Convene_Training_V1_Training.self, by: "Secretariat")
        let trained = try await call("ListTraining", Convene_Training_V1_ListTrainingRequest.with { $0.partyID = f.ids["Police"]! },
                                     as: Convene_Training_V1_ListTrainingResponse.self, by: "Police")
        XCTAssertEqual(trained.training.map(\.trainees), [40])
        // The centre is listed to every party; its support requests only to the Secretariat and
        // its host country.
        for (party, seesRequests) in [("Host", true), ("Secretariat", true), ("Troops", false), ("Donor", false)] {
            let centres = try await call("ListCentres", Convene_Training_V1_ListCentresRequest(),
                                         as: Convene_Training_V1_ListCentresResponse.self, by: party)
            XCTAssertEqual(centres.centres.map(\.id), [centre.id], party)
            XCTAssertEqual(centres.centres.first?.supportRequests.map(\.status), seesRequests ? [.approved] : [], party)
        }

        // Unloading a Swift plugin stops routing to it (the library stays mapped); reloading serves again.
        let admin = CallOptions.bearer(try f.adminToken)
        _ = try await f.client.unary(PM.unloadPlugin, Convene_Plugins_V1_UnloadPluginRequest.with { $0.name = "training-centres" },
                                     as: Convene_Plugins_V1_UnloadPluginResponse.self, options: admin)
        await assertRPCError(.unimplemented) {
            try await call("ListCentres", Convene_Training_V1_ListCentresRequest(), as: Convene_Training_V1_ListCentresResponse.self,
                           by: "Troops")
        }
        _ = try await load(bin.appendingPathComponent("libConvenePlugin_Training.so").path)
        let again = try await call("ListCentres", Convene_Training_V1_ListCentresRequest(),
                                   as: Convene_Training_V1_ListCentresResponse.self, by: "Troops")
        XCTAssertEqual(again.centres.count, 1, "its storage outlived the unload")
    }

    func typed<R: SwiftProtobuf.Message>(_ service: String, _ method: String, _ request: some SwiftProtobuf.Message,
                                         as: R.Type, by party: String) async throws -> R {
        try await f.call(service, method, request, as: R.self, by: party)
    }

    func testMilitaryStaffCommitteeReviewsOperationalChanges() async throws {
        let operation = try await f.makeOperation()
        let service = "convene.msc.v1.MilitaryStaffCommittee"
        func reviews(_ party: String) async throws -> [Convene_Msc_V1_Review] {
            try await typed(service, "ListReviews", Convene_Msc_V1_ListReviewsRequest.with { $0.operationID = operation },
                            as: Convene_Msc_V1_ListReviewsResponse.self, by: party).reviews
        }
        let meeting = try await f.convene(operation, stage: .mandateChange)
        let opened = try await eventually { try await reviews("Troops").first }
        XCTAssertEqual(opened?.subjectID, meeting.id)
        XCTAssertEqual(opened?.status, .open)
        let hidden = try await reviews("Donor")
        XCTAssertTrue(hidden.isEmpty, "the donor takes part in the operation but is not invited to the meeting")

        _ = try await f.client.unary(CM.updateMandate, Convene_Consultation_V1_UpdateMandateRequest.with {
            $0.operationID = operation; $0.useOfForce = "All necessary means"
        }, as: Convene_Consultation_V1_Operation.self, options: f.options("President"))
        let second = try await eventually { try await reviews("Donor").first { $0.subjectID == operation } }
        XCTAssertEqual(second?.reason, "change in the authorization to use force (II.B.2(b))")
        // A party with no part in the operation learns nothing of its reviews (AccessRules).
        await assertRPCError(.permissionDenied, containing: "II.B.3") { _ = try await reviews("Bystander") }

        let review = try XCTUnwrap(opened)
        await assertRPCError(.permissionDenied, containing: "I.C.1") {
            try await self.typed(service, "SubmitFinding", Convene_Msc_V1_SubmitFindingRequest.with {
                $0.reviewID = review.id; $0.text = "x"
            }, as: Convene_Msc_V1_Review.self, by: "Troops")
        }
        let found = try await typed(service, "SubmitFinding", Convene_Msc_V1_SubmitFindingRequest.with {
            $0.reviewID = review.id; $0.text = "The force lacks the air assets the new tasks need"
        }, as: Convene_Msc_V1_Review.self, by: "Member")
        XCTAssertEqual(found.findings.map(\.partyID), [f.ids["Member"]!])
        await assertRPCError(.permissionDenied) {
            try await self.typed(service, "CloseReview", Convene_Msc_V1_CloseReviewRequest.with {
                $0.reviewID = review.id; $0.conclusion = "x"
            }, as: Convene_Msc_V1_Review.self, by: "Member")
        }
        let closed = try await typed(service, "CloseReview", Convene_Msc_V1_CloseReviewRequest.with {
            $0.reviewID = review.id; $0.conclusion = "Recommend two utility helicopter units"
        }, as: Convene_Msc_V1_Review.self, by: "President")
        XCTAssertEqual(closed.status, .closed)
        await assertRPCError(.failedPrecondition) {
            try await self.typed(service, "SubmitFinding", Convene_Msc_V1_SubmitFindingRequest.with {
                $0.reviewID = review.id; $0.text = "late"
            }, as: Convene_Msc_V1_Review.self, by: "Member")
        }
    }

    func testMissionPlanningFormsATaskForceAndTerminationDissolvesIt() async throws {
        let operation = try await f.makeOperation()
        let service = "convene.taskforce.v1.MissionTaskForces"
        func get() async throws -> Convene_Taskforce_V1_TaskForce? {
            try? await typed(service, "GetTaskForce", Convene_Taskforce_V1_GetTaskForceRequest.with { $0.operationID = operation },
                             as: Convene_Taskforce_V1_TaskForce.self, by: "Troops")
        }
        // An II.D exchange at the stage of mission planning, convened first, forms nothing: the
        // stage is the contributors' consultation meeting's (II.B.2(a)).
        _ = try await f.convene(operation, form: .otherConsultation, stage: .missionPlanning, at: f.now + 3_600_000, as: "Member",
                                paper: false)
        let planning = try await f.convene(operation, stage: .missionPlanning)
        let force = try await eventually { try await get() }
        XCTAssertEqual(force?.formedByMeetingID, planning.id)
        XCTAssertTrue(force?.departments.contains("Logistics and support") ?? false)

        await assertRPCError(.permissionDenied, containing: "I.B.7") {
            try await self.typed(service, "AddTask", Convene_Taskforce_V1_AddTaskRequest.with {
                $0.operationID = operation; $0.title = "x"; $0.owner = "Police"
            }, as: Convene_Taskforce_V1_TaskForce.self, by: "Troops")
        }
        await assertRPCError(.invalidArgument, containing: "owner") {
            try await self.typed(service, "AddTask", Convene_Taskforce_V1_AddTaskRequest.with {
                $0.operationID = operation; $0.title = "x"; $0.owner = "Catering"
            }, as: Convene_Taskforce_V1_TaskForce.self, by: "Secretariat")
        }
        let tasked = try await typed(service, "AddTask", Convene_Taskforce_V1_AddTaskRequest.with {
            $0.operationID = operation; $0.title = "Concept of operations, first draft"; $0.owner = "Military planning"
        }, as: Convene_Taskforce_V1_TaskForce.self, by: "Secretariat")
        let task = try XCTUnwrap(tasked.tasks.first)
        XCTAssertEqual(task.status, .todo)
        let progressed = try await typed(service, "UpdateTask", Convene_Taskforce_V1_UpdateTaskRequest.with {
            $0.operationID = operation; $0.taskID = task.id; $0.status = .inProgress
        }, as: Convene_Taskforce_V1_TaskForce.self, by: "Secretariat")
        XCTAssertEqual(progressed.tasks.first?.status, .inProgress)
        _ = try await typed(service, "AddMember", Convene_Taskforce_V1_AddMemberRequest.with {
            $0.operationID = operation; $0.name = "Chief of staff (designate)"; $0.department = "Military planning"
        }, as: Convene_Taskforce_V1_TaskForce.self, by: "Secretariat")

        for phase in [Convene_Consultation_V1_Phase.deployed, .terminated] {
            _ = try await f.client.unary(CM.updateMandate, Convene_Consultation_V1_UpdateMandateRequest.with {
                $0.operationID = operation; $0.phase = phase
            }, as: Convene_Consultation_V1_Operation.self, options: f.options("President"))
        }
        let dissolved = try await eventually { () -> Convene_Taskforce_V1_TaskForce? in
            let current = try await get()
            return current?.status == .dissolved ? current : nil
        }
        XCTAssertEqual(dissolved?.members.count, 1)
        await assertRPCError(.failedPrecondition, containing: "dissolved") {
            try await self.typed(service, "AddTask", Convene_Taskforce_V1_AddTaskRequest.with {
                $0.operationID = operation; $0.title = "x"; $0.owner = "Police"
            }, as: Convene_Taskforce_V1_TaskForce.self, by: "Secretariat")
        }
    }

    func testFailingHangingAndSilentPluginCallsLeaveTheServerServing() async throws {
        _ = try await load(fixture("Behaviour"))
        let answer1 = try await raw("Echo", [1, 2, 3])
        XCTAssertEqual(answer1, [1, 2, 3])
        let failed = await assertRPCError(.internal) { try await self.raw("Fail", []) }
        XCTAssertEqual(failed?.message, "the behaviour fixture failed on purpose")
        await assertRPCError(.internal, containing: "without a response") { try await self.raw("Silent", []) }
        await assertRPCError(.internal, containing: "without a response (set_response of 68157440 bytes refused: over the host's limit of 64 MiB)") {
            try await self.raw("Silent", [UInt8(ascii: "L")])
        }
        await assertRPCError(.internal, containing: "without a response") { try await self.raw("Silent", [UInt8(ascii: "N")]) }
        // Texts over the host's 64 KiB are cut, within it (isolated, past it was a forged message,
        // and the runner was ended); the status message is cut again to what one END carries.
        let cut = await assertRPCError(.internal, containing: "xxxx… (cut)") {
            try await self.raw("Silent", [UInt8(ascii: "E")])
        }
        XCTAssertLessThanOrEqual(cut?.message.utf8.count ?? .max, 4096)
        await assertRPCError(.internal, containing: "without a response") { try await self.raw("Silent", [UInt8(ascii: "G")]) }

        // A call that hangs for 3 s with a 200 ms deadline: DEADLINE_EXCEEDED, and meanwhile everyone else is served.
        let client: ConveneClient = f.client
        let token: String = f.tokens["Troops"]!
        let hang = Task { @Sendable in try await Self.raw(client, token: token, "Hang", [0xB8, 0x0B, 0, 0], timeout: .milliseconds(200)) }
        let status = try await f.client.health.check().status
        XCTAssertEqual(status, .serving)
        let answer2 = try await raw("Echo", [9])
        XCTAssertEqual(answer2, [9])
        await assertRPCError(.deadlineExceeded) { try await hang.value }
        // Neither the failed call's write nor the abandoned one's was committed: two echoes counted.
        try await Task.sleep(for: .seconds(3))
        let count = try await raw("Count", [])
        XCTAssertEqual(count, [2, 0, 0, 0, 0, 0, 0, 0])
    }

    /// A response of any size comes back whole: smaller than the room a method's calls make
    /// for their response, larger (the room then grows, `ResponseRoom`), and beyond the room's
    /// largest size; and smaller ones again after.
    func testResponsesOfEverySizeComeBackWhole() async throws {
        _ = try await load(fixture("Behaviour"))
        for size in [0, 1, 255, 256, 257, 4_000, 16_384, 16_385, 300_000, 10, 20_000, 3] {
            let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ size) }
            let echoed = try await raw("Echo", bytes)
            XCTAssertEqual(echoed.count, size)
            XCTAssertEqual(echoed, bytes, "\(size) bytes")
        }
    }

    func testACancelledPluginCallCommitsNothing() async throws {
        _ = try await load(fixture("Behaviour"))
        let client: ConveneClient = f.client
        let token: String = f.tokens["Troops"]!
        // Hang for 800 ms without a deadline; the caller gives up after 100 ms.
        let call = Task { @Sendable in try await Self.raw(client, token: token, "Hang", [0x20, 0x03, 0, 0]) }
        try await Task.sleep(for: .milliseconds(100))
        call.cancel()
        await assertRPCError(.cancelled) { try await call.value }
        try await Task.sleep(for: .milliseconds(1200))  // the plugin's thread has returned by now
        let count = try await raw("Count", [])
        XCTAssertEqual(count, [0, 0, 0, 0, 0, 0, 0, 0], "the abandoned call's write was not committed")
    }

    func testConcurrentCallsNeverLoseAStorageUpdate() async throws {
        _ = try await load(fixture("Behaviour"))
        let client: ConveneClient = f.client
        let token: String = f.tokens["Troops"]!
        // 40 echoes at once, each a read-modify-write of one counter, on 4 plugin threads.
        try await withThrowingTaskGroup(of: [UInt8].self) { group in
            for i in 0..<40 {
                group.addTask { @Sendable in try await Self.raw(client, token: token, "Echo", [UInt8(i)]) }
            }
            for try await _ in group {}
        }
        let count = try await raw("Count", [])
        XCTAssertEqual(count, [40, 0, 0, 0, 0, 0, 0, 0], "every increment committed once")
    }

    /// Calls that list keys commit only what their listing still shows: each of these counts
    /// the keys under a prefix and adds the next one; two that counted the same (one's key
    /// added after the other listed) would write the same key, and a key would be lost.
    func testCallsThatListKeysNeverCommitAStaleListing() async throws {
        _ = try await load(fixture("Behaviour"))
        let client: ConveneClient = f.client
        let token: String = f.tokens["Troops"]!
        var pause: [UInt8] = [UInt8(ascii: "c")]
        withUnsafeBytes(of: UInt32(2_000)) { pause += $0 }  // 2 ms between the listing and the write
        let request = pause
        let counts = try await withThrowingTaskGroup(of: [UInt8].self) { group in
            for _ in 0..<24 {
                group.addTask { @Sendable in try await Self.raw(client, token: token, "Storage", request) }
            }
            var counts: [String] = []
            for try await answer in group { counts.append(String(decoding: answer, as: UTF8.self)) }
            return counts
        }
        XCTAssertEqual(Set(counts).count, 24, "each call counted a different number of keys: \(counts.sorted())")
        let last = try await raw("Storage", [UInt8(ascii: "c")])
        XCTAssertEqual(String(decoding: last, as: UTF8.self), "count=24")
    }

    func testUnloadDrainsInFlightCallsAndReloadServesAgain() async throws {
        _ = try await load(fixture("Behaviour"))
        let client: ConveneClient = f.client
        let token: String = f.tokens["Troops"]!
        let inFlight = Task { @Sendable in try await Self.raw(client, token: token, "Hang", [0xF4, 0x01, 0, 0]) }  // 500 ms
        let started = await f.untilInFlight("behaviour")
        XCTAssertTrue(started)
        let admin = CallOptions.bearer(try f.adminToken)
        _ = try await f.client.unary(PM.unloadPlugin, Convene_Plugins_V1_UnloadPluginRequest.with { $0.name = "behaviour" },
                                     as: Convene_Plugins_V1_UnloadPluginResponse.self, options: admin)
        let answer3 = try await inFlight.value
        XCTAssertEqual(answer3, [0xF4, 0x01, 0, 0], "the in-flight call finished before the unload")
        await assertRPCError(.unimplemented) { try await self.raw("Echo", [1]) }
        _ = try await load(fixture("Behaviour"))
        let answer4 = try await raw("Echo", [7])
        XCTAssertEqual(answer4, [7])
        let reloaded = try await f.client.unary(PM.reloadPlugin, Convene_Plugins_V1_ReloadPluginRequest.with { $0.name = "behaviour" },
                                                as: Convene_Plugins_V1_PluginInfo.self, options: admin)
        XCTAssertEqual(reloaded.name, "behaviour")
        let answer5 = try await raw("Echo", [8])
        XCTAssertEqual(answer5, [8])
        await assertRPCError(.notFound) {
            try await self.f.client.unary(PM.unloadPlugin, Convene_Plugins_V1_UnloadPluginRequest.with { $0.name = "nothing" },
                                          as: Convene_Plugins_V1_UnloadPluginResponse.self, options: admin)
        }
    }
}

import SwiftProtobuf
