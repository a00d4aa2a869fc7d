// Security Council missions (resolution 1353 (2001), I.B.5, II.B.2(g)), in Swift with the
// plugin SDK. Terms of reference and conclusions go to every contributor, with receipts;
// the consultations held before and after the mission (II.B.2(g)) are linked to it.
//
// Storage: "mission/<id>" -> Mission, "seq/mission" -> counter.
import ConveneMessages
import ConvenePluginSDK
import Foundation

enum CouncilMissions {
    typealias Mission = Convene_Missions_V1_Mission

    static var definition: PluginDefinition {
        var plugin = PluginDefinition(name: "council-missions", version: "1.0.0",
                                      service: "convene.missions.v1.CouncilMissions", descriptorSet: missionsDescriptorSet)

        plugin.unary("PlanMission") { (request: Convene_Missions_V1_PlanMissionRequest, context) -> Mission in
            try context.require("the Council President plans Security Council missions (I.B.5)", anyOf: PartyRole.councilPresident)
            try PluginError.requireText(request.termsOfReference, field: "terms_of_reference", provision: "I.B.5")
            let operation = try context.call(HostMethods.Consultation.getOperation, .with { $0.operationID = request.operationID })
            guard operation.phase != .terminated else {
                throw PluginError(CONVENE_FAILED_PRECONDITION,
                                  "operation \(request.operationID) is terminated; Security Council missions go to peacekeeping operations under way (I.B.5)")
            }
            let dates = request.dates.isEmpty ? "" : try PluginError.requireText(request.dates, field: "dates")
            let contributors = try contributorIDs(request.operationID, context)
            let mission = try Mission.with {
                $0.id = "mission-\(try context.nextNumber("mission"))"
                $0.operationID = request.operationID
                $0.termsOfReference = request.termsOfReference
                $0.dates = dates
                $0.receipts = contributors.map { id in .with { $0.partyID = id } }
            }
            try context.put("mission/\(mission.id)", mission)
            // Seen by those who may list the mission (mayList), not by every party of the operation.
            try context.emit(about: request.operationID, kind: "mission.terms_delivered",
                         "terms of reference of a Security Council mission delivered to the contributors (I.B.5)", to: .contributors)
            return visible(mission, context)
        }

        plugin.unary("RecordConclusions") { (request: Convene_Missions_V1_RecordConclusionsRequest, context) -> Mission in
            try context.require("the Council President records a mission's conclusions (I.B.5)", anyOf: PartyRole.councilPresident)
            var mission = try load(request.missionID, context)
            guard mission.conclusions.isEmpty else {
                throw PluginError(CONVENE_FAILED_PRECONDITION, "the conclusions of \(mission.id) are already recorded")
            }
            try PluginError.requireText(request.conclusions, field: "conclusions")
            mission.conclusions = request.conclusions
            try context.put("mission/\(mission.id)", mission)
            // When, so that a consultation is placed before or after the mission by when it takes
            // place, not by when it was entered or its event happens to reach this plugin.
            try context.put("concluded/\(mission.id)", Google_Protobuf_Timestamp(date: Date()))
            try context.emit(about: mission.operationID, kind: "mission.conclusions_delivered",
                         "conclusions of a Security Council mission delivered to the contributors (I.B.5)", to: .contributors)
            return visible(mission, context)
        }

        plugin.unary("Acknowledge") { (request: Convene_Missions_V1_AcknowledgeRequest, context) -> Mission in
            var mission = try load(request.missionID, context)
            if !mission.receipts.contains(where: { $0.partyID == context.caller }) {
                // One the caller may not list is answered as one that does not exist. A country
                // that became a contributor after the mission was planned is informed as well
                // (I.B.5 informs the contributors, those of today): its receipt is added now.
                let contributors = Set(try contributorIDs(mission.operationID, context))
                guard mayList(mission, context, contributors: contributors) else {
                    throw PluginError(CONVENE_NOT_FOUND, "mission_id: no mission \(request.missionID)")
                }
                guard contributors.contains(context.caller) else {
                    throw PluginError(CONVENE_PERMISSION_DENIED, "\(mission.id) was not delivered to the caller: it goes to the operation's contributors (I.B.5)")
                }
                mission.receipts.append(.with { $0.partyID = context.caller })
            }
            guard let index = mission.receipts.firstIndex(where: { $0.partyID == context.caller }) else {
                throw PluginError(CONVENE_INTERNAL, "\(mission.id): the caller's receipt was not kept")
            }
            switch request.document {
            case .termsOfReference:
                mission.receipts[index].termsAcknowledged = true
            case .conclusions:
                guard !mission.conclusions.isEmpty else {
                    throw PluginError(CONVENE_FAILED_PRECONDITION, "\(mission.id) has no conclusions yet")
                }
                mission.receipts[index].conclusionsAcknowledged = true
            default:
                throw PluginError(CONVENE_INVALID_ARGUMENT, "document: TERMS_OF_REFERENCE or CONCLUSIONS")
            }
            try context.put("mission/\(mission.id)", mission)
            return visible(mission, context)
        }

        plugin.unary("ListMissions") { (request: Convene_Missions_V1_ListMissionsRequest, context) -> Convene_Missions_V1_ListMissionsResponse in
            try context.requireVisible(request.operationID, field: "operation_id")
            let missions = context.all("mission/", as: Mission.self).filter { $0.operationID == request.operationID }
            let contributors = Set(try contributorIDs(request.operationID, context))
            return .with { $0.missions = missions.filter { mayList($0, context, contributors: contributors) }.map { visible($0, context) } }
        }

        // II.B.2(g): a consultation at the Council-mission stage is the one before the mission
        // until its conclusions are in, and the one after it once they are.
        plugin.on("meeting.convened") { context, payload in
            let event = try Convene_Consultation_V1_OperationEvent(serializedBytes: payload)
            let meeting = try context.call(HostMethods.Consultation.getMeeting, .with { $0.meetingID = event.subjectID }, asPlugin: true)
            // II.B.2(g): the contributors' consultation meetings before and after the mission; a
            // meeting of another form at that stage (an II.D exchange among a few) is not one.
            guard meeting.form == .consultationMeeting, meeting.stage == .councilMission else { return }
            for var mission in context.all("mission/", as: Mission.self) where mission.operationID == meeting.operationID {
                // After the mission is a meeting both convened and taking place once its
                // conclusions were in: one convened before them, or one that took place before
                // them (recorded after the fact), is the one before. Decided by the meeting's own
                // times, never by when its event reaches this plugin (late under load, it made a
                // meeting convened before the conclusions count as the one after).
                let convenedAfterConclusions: Bool
                if let concluded = context.get("concluded/\(mission.id)", as: Google_Protobuf_Timestamp.self) {
                    // In whole milliseconds, the precision of the server's times.
                    let millis = { (time: Google_Protobuf_Timestamp) in (time.timeIntervalSince1970 * 1000).rounded(.down) }
                    convenedAfterConclusions = min(millis(meeting.createTime), millis(meeting.scheduledTime)) >= millis(concluded)
                } else {
                    convenedAfterConclusions = !mission.conclusions.isEmpty
                }
                if !convenedAfterConclusions, mission.consultationBeforeMeetingID.isEmpty {
                    mission.consultationBeforeMeetingID = meeting.id
                } else if convenedAfterConclusions, mission.consultationAfterMeetingID.isEmpty {
                    mission.consultationAfterMeetingID = meeting.id
                } else {
                    continue
                }
                try context.put("mission/\(mission.id)", mission)
            }
        }
        return plugin
    }

    /// The mission as the caller may see it: the consultations it may not see are left out.
    static func visible(_ mission: Mission, _ context: PluginContext) -> Mission {
        var mission = mission
        if !mission.consultationBeforeMeetingID.isEmpty, !context.maySee(mission.consultationBeforeMeetingID) {
            mission.consultationBeforeMeetingID = ""
        }
        if !mission.consultationAfterMeetingID.isEmpty, !context.maySee(mission.consultationAfterMeetingID) {
            mission.consultationAfterMeetingID = ""
        }
        return mission
    }

    static func contributorIDs(_ operationID: String, _ context: PluginContext) throws -> [String] {
        let contributions = try context.call(HostMethods.Consultation.listContributions, .with { $0.operationID = operationID },
                                             asPlugin: true)
        var seen = Set<String>()
        return contributions.contributions.map(\.partyID).filter { seen.insert($0).inserted }
    }

    /// The Council and the Secretariat see every mission; a contributor of the operation (one
    /// it was delivered to, or one that joined since: contributions are never withdrawn), the
    /// missions of that operation. The same audience as the missions' events (`.contributors`).
    static func mayList(_ mission: Mission, _ context: PluginContext, contributors: Set<String>) -> Bool {
        context.isCouncil || context.hasRole(PartyRole.secretariat) || mission.receipts.contains { $0.partyID == context.caller }
            || contributors.contains(context.caller)
    }

    static func load(_ id: String, _ context: PluginContext) throws -> Mission {
        guard let mission = context.get("mission/\(id)", as: Mission.self) else {
            throw PluginError(CONVENE_NOT_FOUND, "mission_id: no mission \(id)")
        }
        return mission
    }
}
