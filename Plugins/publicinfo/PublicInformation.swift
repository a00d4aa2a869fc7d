// Public information (resolution 1353 (2001), I.B.10-12), in Swift with the plugin SDK.
//
// Storage: "campaign/<id>", "programme/<id>", "seq/..." counters.
import ConveneMessages
import ConvenePluginSDK
import Foundation

enum PublicInformation {
    static var definition: PluginDefinition {
        var plugin = PluginDefinition(name: "public-information", version: "1.0.0",
                                      service: "convene.publicinfo.v1.PublicInformation", descriptorSet: publicinfoDescriptorSet)

        plugin.unary("LaunchCampaign") { (request: Convene_Publicinfo_V1_LaunchCampaignRequest, context) -> Convene_Publicinfo_V1_Campaign in
            try context.require("the Secretariat runs a mission's public information (I.B.10, I.B.12)", anyOf: PartyRole.secretariat)
            guard request.audience != .unspecified, Convene_Publicinfo_V1_Audience.allCases.contains(request.audience) else {
                throw PluginError(CONVENE_INVALID_ARGUMENT, "audience: LOCAL (I.B.10) or INTERNATIONAL (I.B.11)")
            }
            try PluginError.requireText(request.message, field: "message")
            // It is the event's description too, which the host bounds at 64 KiB.
            guard request.message.utf8.count <= 10_000 else { throw PluginError(CONVENE_INVALID_ARGUMENT, "message: longer than 10000 bytes") }
            guard request.channels.count <= 20 else { throw PluginError(CONVENE_INVALID_ARGUMENT, "channels: at most 20") }
            for (index, channel) in request.channels.enumerated() {
                try PluginError.requireText(channel, field: "channels[\(index)]")
                guard channel.utf8.count <= 200 else { throw PluginError(CONVENE_INVALID_ARGUMENT, "channels[\(index)]: longer than 200 bytes") }
                if request.channels[..<index].contains(where: { $0.caseInsensitiveCompare(channel) == .orderedSame }) {
                    throw PluginError(CONVENE_INVALID_ARGUMENT, "channels[\(index)]: '\(channel)' is named twice")
                }
            }
            let operation = try context.call(HostMethods.Consultation.getOperation, .with { $0.operationID = request.operationID })
            guard operation.phase != .terminated else {
                throw PluginError(CONVENE_FAILED_PRECONDITION,
                                  "operation \(request.operationID) is terminated; its public information campaigns ended with it (I.B.10)")
            }
            let campaign = try Convene_Publicinfo_V1_Campaign.with {
                $0.id = "campaign-\(try context.nextNumber("campaign"))"
                $0.operationID = request.operationID
                $0.audience = request.audience
                $0.message = request.message
                $0.channels = request.channels
            }
            try context.put("campaign/\(campaign.id)", campaign)
            try context.emit(about: request.operationID, kind: "publicinfo.campaign_launched", request.message)
            return campaign
        }

        plugin.unary("AddProgramme") { (request: Convene_Publicinfo_V1_AddProgrammeRequest, context) -> Convene_Publicinfo_V1_Programme in
            guard context.caller == request.countryPartyID || context.hasRole(PartyRole.secretariat) else {
                throw PluginError(CONVENE_PERMISSION_DENIED, "a programme is added by its country or the Secretariat (I.B.11)")
            }
            try PluginError.requireText(request.title, field: "title")
            try context.requireVisible(request.operationID, field: "operation_id")
            let contributions = try context.call(HostMethods.Consultation.listContributions,
                                                 .with { $0.operationID = request.operationID }, asPlugin: true)
            let personnel: Set<Convene_Consultation_V1_ContributionKind> = [.troops, .militaryObservers, .civilianPolice, .otherCivilianPersonnel]
            guard contributions.contributions.contains(where: { $0.partyID == request.countryPartyID && personnel.contains($0.kind) }) else {
                throw PluginError(CONVENE_FAILED_PRECONDITION,
                                  "country_party_id: programmes highlight the peacekeepers a country contributes to \(request.operationID) (I.B.11)")
            }
            let programme = try Convene_Publicinfo_V1_Programme.with {
                $0.id = "programme-\(try context.nextNumber("programme"))"
                $0.operationID = request.operationID
                $0.countryPartyID = request.countryPartyID
                $0.title = request.title
                $0.highlights = request.highlights
            }
            try context.put("programme/\(programme.id)", programme)
            return programme
        }

        plugin.unary("ListActivities") { (request: Convene_Publicinfo_V1_ListActivitiesRequest, context) -> Convene_Publicinfo_V1_ListActivitiesResponse in
            try context.requireVisible(request.operationID, field: "operation_id")
            return .with {
                $0.campaigns = context.all("campaign/", as: Convene_Publicinfo_V1_Campaign.self)
                    .filter { $0.operationID == request.operationID }
                $0.programmes = context.all("programme/", as: Convene_Publicinfo_V1_Programme.self)
                    .filter { $0.operationID == request.operationID }
            }
        }
        return plugin
    }
}
