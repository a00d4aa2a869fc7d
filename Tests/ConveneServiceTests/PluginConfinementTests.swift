import ConveneClient
import ConveneProtos
import ConveneRPC
import ConveneStore
import ConveneTransport
import Foundation
import SwiftProtobuf
import XCTest

/// What a party may not see through the services it cannot learn through a plugin either:
/// plugin methods, plugin events in WatchOperation, and plugins' own principals (never
/// invited, so never counted as participants).
class PluginConfinementTests: OperationTestCase {
    override class var builtPlugins: Bool { true }

    typealias Event = Convene_Consultation_V1_OperationEvent

    func call<R: SwiftProtobuf.Message>(_ service: String, _ method: String, _ request: some SwiftProtobuf.Message,
                                        as: R.Type, by party: String) async throws -> R {
        try await f.call(service, method, request, as: R.self, by: party)
    }

    /// The kinds of the events `party` sees on the operation, until the `occurrence`th of kind `last`.
    func watched(by party: String, until last: String, occurrence: Int = 1) async throws -> [String] {
        try await watchedEvents(by: party, until: last, occurrence: occurrence).map(\.kind)
    }

    func watchedEvents(by party: String, until last: String, occurrence: Int = 1) async throws -> [Event] {
        let watch = try await f.client.serverStreaming(CM.watchOperation, Convene_Consultation_V1_WatchOperationRequest.with {
            $0.operationID = operation
        }, as: Event.self, options: f.options(party))
        var seen: [Event] = []
        for try await event in watch.responses {
            seen.append(event)
            if event.kind == last, seen.filter({ $0.kind == last }).count == occurrence { break }
        }
        watch.cancel()
        return seen
    }

    /// Runs SQL on the stopped server's store, outside the server: on SQLite its file, on
    /// PostgreSQL (CONVENE_TEST_STORE=postgres) its database, with psql.
    func rewriteStoppedStore(sqlite: String, postgres: String) throws {
        let rewrite = Process()
        rewrite.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let remembered = (f.dataDirectory as NSString).appendingPathComponent("test-database-url")
        if let url = try? String(contentsOfFile: remembered, encoding: .utf8) {
            rewrite.arguments = ["psql", "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "-q", "-d", url, "-c", postgres]
        } else {
            rewrite.arguments = ["python3", "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); c.commit()",
                                 (f.dataDirectory as NSString).appendingPathComponent("convene.sqlite"), sqlite]
        }
        try rewrite.run()
        rewrite.waitUntilExit()
        XCTAssertEqual(rewrite.terminationStatus, 0, "the old records written")
    }

    /// Troops ask for a reconnaissance visit, and the President plans a Council mission.
    func requestAVisitAndPlanAMission() async throws {
        _ = try await call("convene.recon.v1.ReconnaissanceVisits", "RequestVisit", Convene_Recon_V1_RequestVisitRequest.with {
            $0.operationID = operation; $0.purpose = "Assess the deployment area"; $0.teamSize = 6
        }, as: Convene_Recon_V1_Visit.self, by: "Troops")
        _ = try await call("convene.missions.v1.CouncilMissions", "PlanMission", Convene_Missions_V1_PlanMissionRequest.with {
            $0.operationID = operation; $0.termsOfReference = "Assess the ceasefire"; $0.dates = "April"
        }, as: Convene_Missions_V1_Mission.self, by: "President")
    }

    func testGroupsOfFriendsRevealNoMeetingToAPartyThatMayNotSeeIt() async throws {
        let friends = "convene.friends.v1.GroupsOfFriends"
        let group = try await f.formGroupOfFriends(on: operation, named: "Friends of UNMIX", member: "Donor", as: .donor)
        let meeting = try await f.convene(operation)
        let proposed = try await eventually { () -> [Convene_Friends_V1_ProposedInvitation]? in
            let list = try await self.call(friends, "ListProposedInvitations", Convene_Friends_V1_ListProposedInvitationsRequest.with {
                $0.meetingID = meeting.id
            }, as: Convene_Friends_V1_ListProposedInvitationsResponse.self, by: "Secretariat").proposals
            return list.isEmpty ? nil : list
        }
        XCTAssertEqual(proposed?.map(\.partyID), [f.ids["Donor"]!])

        for party in ["Bystander", "Donor", "Agency"] {
            let service = await assertRPCError(.notFound) {
                try await self.f.client.unary(CM.getMeeting, Convene_Consultation_V1_GetMeetingRequest.with { $0.meetingID = meeting.id },
                                              as: Convene_Consultation_V1_Meeting.self, options: self.f.options(party))
            }
            let plugin = await assertRPCError(.notFound) {
                try await self.call(friends, "ListProposedInvitations", Convene_Friends_V1_ListProposedInvitationsRequest.with {
                    $0.meetingID = meeting.id
                }, as: Convene_Friends_V1_ListProposedInvitationsResponse.self, by: party)
            }
            XCTAssertEqual(plugin?.message, "meeting_id: " + (service?.message ?? ""), "the plugin says what the service says")
        }
        // The plugin's event about the meeting reaches those who may see the meeting only.
        _ = try await f.client.unary(CM.updateMandate, Convene_Consultation_V1_UpdateMandateRequest.with {
            $0.operationID = operation; $0.mandate = "Monitor and verify"
        }, as: Convene_Consultation_V1_Operation.self, options: f.options("President"))
        let troopsEvents = try await watchedEvents(by: "Troops", until: "mandate.updated")
        let troopsSaw = troopsEvents.map(\.kind)
        XCTAssertTrue(troopsSaw.contains("friends.invitations_proposed"), "\(troopsSaw)")
        XCTAssertTrue(troopsSaw.contains("friends.group_formed"), "\(troopsSaw)")
        // Each names what it concerns: the meeting, or the operation.
        XCTAssertEqual(troopsEvents.first { $0.kind == "friends.invitations_proposed" }?.subjectID, meeting.id)
        XCTAssertEqual(troopsEvents.first { $0.kind == "friends.group_formed" }?.subjectID, operation)
        // The donor takes part in the operation's consultations but is not invited to this meeting.
        let donorSaw = try await watched(by: "Donor", until: "mandate.updated")
        XCTAssertFalse(donorSaw.contains("friends.invitations_proposed"), "\(donorSaw)")
        XCTAssertTrue(donorSaw.contains("friends.group_formed"), "about the operation, which the donor may watch")
        // A party with nothing to do with the operation watches none of its events, plugins' included.
        await assertRPCError(.permissionDenied) { _ = try await self.watched(by: "Bystander", until: "mandate.updated") }
    }

    /// A task force tells that a mission-planning meeting was convened: a party not invited to
    /// that meeting learns of neither, through the plugin's method or its events.
    func testATaskForceIsSeenOnlyByThoseWhoMaySeeTheMeetingThatFormedIt() async throws {
        let service = "convene.taskforce.v1.MissionTaskForces"
        let planning = try await f.convene(operation, stage: .missionPlanning)
        func force(_ party: String) async throws -> Convene_Taskforce_V1_TaskForce? {
            try? await call(service, "GetTaskForce", Convene_Taskforce_V1_GetTaskForceRequest.with { $0.operationID = operation },
                            as: Convene_Taskforce_V1_TaskForce.self, by: party)
        }
        let seen = try await eventually { try await force("Troops") }
        XCTAssertEqual(seen?.formedByMeetingID, planning.id, "Troops are invited to it")
        // The donor takes part in the operation's consultations but is not invited to this one:
        // told what it is told of an operation with no task force.
        let hidden = await assertRPCError(.notFound) {
            try await self.call(service, "GetTaskForce", Convene_Taskforce_V1_GetTaskForceRequest.with { $0.operationID = self.operation },
                                as: Convene_Taskforce_V1_TaskForce.self, by: "Donor")
        }
        let none = try await f.makeOperation(name: "UNNONE")
        let absent = await assertRPCError(.notFound) {
            try await self.call(service, "GetTaskForce", Convene_Taskforce_V1_GetTaskForceRequest.with { $0.operationID = none },
                                as: Convene_Taskforce_V1_TaskForce.self, by: "Donor")
        }
        XCTAssertEqual(hidden?.message, absent?.message, "the same answer as for an operation without one")
        _ = try await f.client.unary(CM.updateMandate, Convene_Consultation_V1_UpdateMandateRequest.with {
            $0.operationID = operation; $0.mandate = "Monitor and verify"
        }, as: Convene_Consultation_V1_Operation.self, options: f.options("President"))
        let troopsSaw = try await watchedEvents(by: "Troops", until: "mandate.updated")
        // The event names what it concerns, the meeting, as the services' own events do.
        XCTAssertEqual(troopsSaw.first { $0.kind == "imtf.formed" }?.subjectID, planning.id, "\(troopsSaw.map(\.kind))")
        let donorSaw = try await watched(by: "Donor", until: "mandate.updated")
        XCTAssertFalse(donorSaw.contains("imtf.formed"), "\(donorSaw)")
        // A party with no part in the operation learns nothing of it beyond its existence (AccessRules).
        await assertRPCError(.permissionDenied, containing: "the caller has no role, contribution or invitation on it") {
            try await self.call(service, "GetTaskForce", Convene_Taskforce_V1_GetTaskForceRequest.with { $0.operationID = self.operation },
                                as: Convene_Taskforce_V1_TaskForce.self, by: "Bystander")
        }
        await assertRPCError(.notFound) {
            try await self.call(service, "GetTaskForce", Convene_Taskforce_V1_GetTaskForceRequest.with { $0.operationID = "op-999" },
                                as: Convene_Taskforce_V1_TaskForce.self, by: "Troops")
        }
    }

    /// A reconnaissance visit is listed to the Council, the Secretariat and the visiting country,
    /// and a Council mission to the Council, the Secretariat and the contributors: their events
    /// reach the same parties, not every party that may watch the operation.
    func testVisitAndMissionEventsReachOnlyThoseWhoMayListTheVisitOrMission() async throws {
        try await requestAVisitAndPlanAMission()
        _ = try await f.client.unary(CM.updateMandate, Convene_Consultation_V1_UpdateMandateRequest.with {
            $0.operationID = operation; $0.mandate = "Monitor and verify"
        }, as: Convene_Consultation_V1_Operation.self, options: f.options("President"))
        func missions(_ party: String) async throws -> Int {
            try await call("convene.missions.v1.CouncilMissions", "ListMissions", Convene_Missions_V1_ListMissionsRequest.with {
                $0.operationID = operation
            }, as: Convene_Missions_V1_ListMissionsResponse.self, by: party).missions.count
        }
        func visits(_ party: String) async throws -> Int {
            try await call("convene.recon.v1.ReconnaissanceVisits", "ListVisits", Convene_Recon_V1_ListVisitsRequest.with {
                $0.operationID = operation
            }, as: Convene_Recon_V1_ListVisitsResponse.self, by: party).visits.count
        }
        // Police and the donor contribute (so see the mission) but did not ask for the visit; the
        // potential contributor may watch the operation but contributes nothing yet.
        for party in ["Troops", "Police", "Donor", "Potential", "Member", "Secretariat"] {
            let saw = try await watched(by: party, until: "mandate.updated")
            let listsVisit = try await visits(party) > 0, listsMission = try await missions(party) > 0
            XCTAssertEqual(saw.contains("recon.visit_requested"), listsVisit, "\(party) lists the visit: \(listsVisit); saw \(saw)")
            XCTAssertEqual(saw.contains("mission.terms_delivered"), listsMission, "\(party) lists the mission: \(listsMission); saw \(saw)")
            XCTAssertEqual(listsVisit, ["Troops", "Member", "Secretariat"].contains(party), party)
            XCTAssertEqual(listsMission, party != "Potential", party)
        }
    }

    /// A review of a change in the authorization to use force is listed to the Council, the
    /// Secretariat and the contributors (I.C.1): its events reach no one else.
    func testACommitteeReviewsEventsReachOnlyThoseWhoMayListTheReview() async throws {
        _ = try await f.client.unary(CM.updateMandate, Convene_Consultation_V1_UpdateMandateRequest.with {
            $0.operationID = operation; $0.useOfForce = "All necessary means"
        }, as: Convene_Consultation_V1_Operation.self, options: f.options("President"))
        func reviews(_ party: String) async throws -> Int {
            try await call("convene.msc.v1.MilitaryStaffCommittee", "ListReviews", Convene_Msc_V1_ListReviewsRequest.with {
                $0.operationID = operation
            }, as: Convene_Msc_V1_ListReviewsResponse.self, by: party).reviews.count
        }
        let opened = try await eventually { try await reviews("Secretariat") > 0 ? true : nil }
        XCTAssertEqual(opened, true)
        _ = try await f.client.unary(CM.updateMandate, Convene_Consultation_V1_UpdateMandateRequest.with {
            $0.operationID = operation; $0.mandate = "Monitor and verify"
        }, as: Convene_Consultation_V1_Operation.self, options: f.options("President"))
        for party in ["Troops", "Donor", "Potential", "Member", "Secretariat"] {
            let saw = try await watched(by: party, until: "mandate.updated", occurrence: 2)
            let listed = try await reviews(party) > 0
            XCTAssertEqual(saw.contains("msc.review_opened"), listed, "\(party) lists the review: \(listed); saw \(saw)")
            XCTAssertEqual(listed, party != "Potential", party)
        }
    }

    /// A plugin's principal is the server's: the administrator issues it no credential and sets
    /// none of its roles (no token of it acts as the plugin), and revoking its credentials only
    /// makes the server issue itself a new one: the plugin's reactions never stop half way.
    func testAPluginsPrincipalIsTheServersNotTheAdministrators() async throws {
        let admin = CallOptions.bearer(try f.adminToken)
        func issued() async throws -> Int64 {
            let credential = try await f.client.administration.issueCredential(.with { $0.partyID = f.ids["Bystander"]!; $0.label = "probe" },
                                                                              options: admin).credentialID
            return try XCTUnwrap(Int64(credential.dropFirst("cred-".count)), credential)
        }
        func force(_ operation: String) async throws -> Convene_Taskforce_V1_TaskForce? {
            try? await call("convene.taskforce.v1.MissionTaskForces", "GetTaskForce", Convene_Taskforce_V1_GetTaskForceRequest.with {
                $0.operationID = operation
            }, as: Convene_Taskforce_V1_TaskForce.self, by: "Secretariat")
        }
        // A planning meeting: the task-force plugin reads it as itself, under its principal.
        _ = try await f.convene(operation, stage: .missionPlanning)
        let formed = try await eventually { try await force(operation) }
        XCTAssertNotNil(formed, "the task force formed")
        let after = try await issued()

        let parties = try await f.client.administration.listParties(.with { $0.pageSize = 500 }, options: admin).parties
        let principals = parties.filter { $0.kind == .plugin }
        XCTAssertFalse(principals.isEmpty, "the plugins act under principals of their own")
        for principal in principals {
            await assertRPCError(.failedPrecondition, containing: "a mechanism plugin's own principal") {
                try await self.f.client.administration.issueCredential(.with { $0.partyID = principal.id; $0.label = "mine" }, options: admin)
            }
            await assertRPCError(.failedPrecondition, containing: "a mechanism plugin's own principal") {
                try await self.f.client.administration.setRoles(.with { $0.partyID = principal.id; $0.roles = principal.roles }, options: admin)
            }
        }
        // Credential ids are row numbers: an administrator can name a principal's without being told it.
        let principalIDs = Set(principals.compactMap { Int64($0.id.dropFirst("party-".count)) })
        let theirs = try (1...after).compactMap { number in try f.server.store.syncRead { db in try db.credential(id: number) } }
            .filter { principalIDs.contains($0.partyID) }
        XCTAssertFalse(theirs.isEmpty, "the principals hold credentials")
        for credential in theirs {
            _ = try await f.client.administration.revokeCredential(.with { $0.credentialID = "cred-\(credential.id ?? 0)" }, options: admin)
        }
        // The plugins still act as themselves, with credentials the server issued itself anew.
        let second = try await f.makeOperation(name: "UNSECOND")
        _ = try await f.convene(second, stage: .missionPlanning)
        let formedAgain = try await eventually { try await force(second) }
        XCTAssertNotNil(formedAgain, "a second task force formed")
        let reissued = try (1...(try await issued())).compactMap { number in try f.server.store.syncRead { db in try db.credential(id: number) } }
            .filter { principalIDs.contains($0.partyID) && $0.revokedAt == nil }
        XCTAssertFalse(reissued.isEmpty, "a principal's credential issued after the revocations")
    }

    /// Events the plugins recorded before they named an audience (all about the operation) are
    /// narrowed when the store is migrated: an upgraded server tells no more than a new one.
    func testEventsRecordedBeforeAudiencesAreNarrowedWhenTheStoreMigrates() async throws {
        _ = try await f.convene(operation, stage: .missionPlanning)
        try await requestAVisitAndPlanAMission()
        let formed = try await eventually {
            try? await self.call("convene.taskforce.v1.MissionTaskForces", "GetTaskForce", Convene_Taskforce_V1_GetTaskForceRequest.with {
                $0.operationID = self.operation
            }, as: Convene_Taskforce_V1_TaskForce.self, by: "Secretariat")
        }
        XCTAssertNotNil(formed)
        await f.server.shutDown()
        // As a server before ABI 1.3 recorded them (about the operation, for every party of it),
        // and the migration not yet run.
        try rewriteStoppedStore(sqlite: """
            UPDATE event SET meetingID = NULL, audience = 0, audiencePartyID = NULL
              WHERE kind IN ('imtf.formed', 'mission.terms_delivered', 'recon.visit_requested');
            DELETE FROM grdb_migrations WHERE identifier = 'v4-plugin-event-audiences';
            """, postgres: """
            UPDATE "event" SET "meetingID" = NULL, "audience" = 0, "audiencePartyID" = NULL
              WHERE "kind" IN ('imtf.formed', 'mission.terms_delivered', 'recon.visit_requested');
            DELETE FROM "schemaMigration" WHERE "name" LIKE 'pg-v3:%';
            """)
        try await f.startServer(port: f.port)
        _ = try await f.client.unary(CM.updateMandate, Convene_Consultation_V1_UpdateMandateRequest.with {
            $0.operationID = operation; $0.mandate = "Monitor and verify"
        }, as: Convene_Consultation_V1_Operation.self, options: f.options("President"))
        let kinds: Set<String> = ["imtf.formed", "mission.terms_delivered", "recon.visit_requested"]
        // The visiting country was not recorded with its visit's event: the Council and the Secretariat keep it.
        for (party, expected) in [("Secretariat", kinds), ("Troops", ["imtf.formed", "mission.terms_delivered"]),
                                  ("Donor", ["mission.terms_delivered"]),
                                  // Invited to the planning meeting, but no contributor yet.
                                  ("Potential", ["imtf.formed"])] as [(String, Set<String>)] {
            let saw = try await watched(by: party, until: "mandate.updated")
            XCTAssertEqual(Set(saw).intersection(kinds), expected, "\(party) saw \(saw)")
        }
    }

    func testNoRegisteredPartyTakesAPluginPrincipalsName() async throws {
        let admin = CallOptions.bearer(try f.adminToken)
        for name in ["Plugin groups-of-friends", "Plugin task-forces", "Plugin x"] {
            await assertRPCError(.invalidArgument, containing: "names beginning with 'Plugin ' are the mechanism plugins' own principals") {
                _ = try await self.f.client.unary(AM.registerParty, Convene_Admin_V1_RegisterPartyRequest.with {
                    $0.name = name; $0.kind = .memberState
                }, as: Convene_Parties_V1_Party.self, options: admin)
            }
        }
        let party = try await f.client.unary(AM.registerParty, Convene_Admin_V1_RegisterPartyRequest.with {
            $0.name = "Pluginia"; $0.kind = .memberState
        }, as: Convene_Parties_V1_Party.self, options: admin)
        XCTAssertEqual(party.name, "Pluginia")
    }

    func testPluginsActUnderTheirOwnPrincipalsWhichAreNeverInvited() async throws {
        // A first meeting: the plugins react as themselves, so their principals exist.
        let first = try await f.convene(operation, stage: .missionPlanning)
        _ = try await eventually { () -> Bool? in
            let parties = try await self.parties()
            return parties.contains { $0.kind == .plugin } ? true : nil
        }
        let pluginParties = try await parties().filter { $0.kind == .plugin }
        let principals = Set(pluginParties.map(\.id))
        XCTAssertFalse(principals.isEmpty)
        XCTAssertTrue(pluginParties.allSatisfy { $0.name.hasPrefix("Plugin ") }, "\(pluginParties)")

        let second = try await f.convene(operation, form: .secretariatMeeting, stage: .unspecified, as: "Secretariat", paper: false)
        for meeting in [first, second] {
            XCTAssertTrue(Set(meeting.invitations.map(\.partyID)).isDisjoint(with: principals), "\(meeting.invitations)")
            XCTAssertTrue(meeting.invitations.contains { $0.partyID == f.ids["Secretariat"]! })
        }
        let sheet = try await f.client.unary(BM.issueFactSheet, Convene_Briefing_V1_IssueFactSheetRequest.with {
            $0.meetingID = second.id; $0.title = "UNMIX at a glance"; $0.content = "Strength: 970"
        }, as: Convene_Briefing_V1_FactSheet.self, options: f.options("Secretariat"))
        XCTAssertTrue(Set(sheet.recipientIds).isDisjoint(with: principals))
        let account = try await f.client.unary(CM.getConsultationAccount, Convene_Consultation_V1_GetConsultationAccountRequest.with {
            $0.operationID = operation
        }, as: Convene_Consultation_V1_ConsultationAccount.self, options: f.options("Secretariat"))
        XCTAssertTrue(account.meetings.allSatisfy { Set($0.participantIds).isDisjoint(with: principals) })

        await assertRPCError(.invalidArgument, containing: "PLUGIN") {
            try await self.f.client.unary(AM.registerParty, Convene_Admin_V1_RegisterPartyRequest.with {
                $0.name = "Impostor"; $0.kind = .plugin
            }, as: Convene_Parties_V1_Party.self, options: .bearer(try self.f.adminToken))
        }
    }

    func parties() async throws -> [Convene_Parties_V1_Party] {
        try await f.client.unary(AM.listParties, Convene_Admin_V1_ListPartiesRequest.with { $0.pageSize = 100 },
                                 as: Convene_Admin_V1_ListPartiesResponse.self, options: .bearer(try f.adminToken)).parties
    }
}
