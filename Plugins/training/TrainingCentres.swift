// Regional peacekeeping training centres (resolution 1353 (2001), I.B.1), written in Swift
// with the Convene plugin SDK.
//
// Storage: "centre/<id>" -> Centre, "support/<id>" -> SupportRequest,
// "training/<id>" -> Training, "seq/<counter>" -> next number.
import ConveneMessages
import ConvenePluginSDK
import Foundation
import SwiftProtobuf

enum TrainingCentres {
    static let secretariat = PartyRole.secretariat

    static var definition: PluginDefinition {
        var plugin = PluginDefinition(name: "training-centres", version: "1.0.0",
                                      service: "convene.training.v1.TrainingCentres", descriptorSet: trainingDescriptorSet)

        plugin.unary("RegisterCentre") { (request: Convene_Training_V1_RegisterCentreRequest, context) -> Convene_Training_V1_Centre in
            try requireSecretariat(context, "registers training centres")
            try PluginError.requireText(request.name, field: "name")
            // Regional training centres are countries' (I.B.1): the host is a Member State.
            try context.requireCountry(request.hostPartyID, field: "host_party_id")
            let taken = context.keys(prefix: "centre/").compactMap { context.get($0, as: Convene_Training_V1_Centre.self) }
            if let same = taken.first(where: { $0.name.caseInsensitiveCompare(request.name) == .orderedSame }) {
                throw PluginError(CONVENE_ALREADY_EXISTS, "name: \(same.id) is named '\(same.name)' already")
            }
            let centre = try Convene_Training_V1_Centre.with {
                $0.id = "centre-\(try context.nextNumber("centre"))"
                $0.name = request.name
                $0.hostPartyID = request.hostPartyID
                $0.region = request.region
            }
            try context.put("centre/\(centre.id)", centre)
            return centre
        }

        plugin.unary("ListCentres") { (request: Convene_Training_V1_ListCentresRequest, context) -> Convene_Training_V1_ListCentresResponse in
            let supports = context.keys(prefix: "support/").compactMap { context.get($0, as: Convene_Training_V1_SupportRequest.self) }
            return .with {
                $0.centres = context.keys(prefix: "centre/").compactMap { context.get($0, as: Convene_Training_V1_Centre.self) }
                    .filter { request.region.isEmpty || $0.region == request.region }
                    .map { centre in
                        var centre = centre
                        centre.supportRequests = supports.filter { $0.centreID == centre.id && maySee($0, of: centre, context) }
                        return centre
                    }
            }
        }

        plugin.unary("RequestSupport") { (request: Convene_Training_V1_RequestSupportRequest, context) -> Convene_Training_V1_SupportRequest in
            let centre = try requireCentre(request.centreID, context)
            guard context.caller == centre.hostPartyID || context.hasRole(secretariat) else {
                throw PluginError(CONVENE_PERMISSION_DENIED,
                                  "only the centre's host country requests technical support for it (I.B.1)")
            }
            try PluginError.requireText(request.description_p, field: "description")
            let support = try Convene_Training_V1_SupportRequest.with {
                $0.id = "support-\(try context.nextNumber("support"))"
                $0.centreID = centre.id
                $0.description_p = request.description_p
                $0.status = .requested
                $0.requestedByPartyID = context.caller
            }
            try context.put("support/\(support.id)", support)
            return support
        }

        plugin.unary("DecideSupport") { (request: Convene_Training_V1_DecideSupportRequest, context) -> Convene_Training_V1_SupportRequest in
            try requireSecretariat(context, "decides on technical support (I.B.1)")
            guard Convene_Training_V1_SupportStatus.allCases.contains(request.status), request.status != .unspecified else {
                throw PluginError(CONVENE_INVALID_ARGUMENT, "status: APPROVED, PROVIDED or DECLINED, not \(request.status.rawValue)")
            }
            guard var support = context.get("support/\(request.requestID)", as: Convene_Training_V1_SupportRequest.self) else {
                throw PluginError(CONVENE_NOT_FOUND, "request_id: no support request \(request.requestID)")
            }
            let allowed: [Convene_Training_V1_SupportStatus: Set<Convene_Training_V1_SupportStatus>] = [
                .requested: [.approved, .declined], .approved: [.provided, .declined],
            ]
            guard allowed[support.status]?.contains(request.status) == true else {
                throw PluginError(CONVENE_FAILED_PRECONDITION,
                                  "status: a \(support.status) request cannot become \(request.status)")
            }
            support.status = request.status
            support.note = request.note
            try context.put("support/\(support.id)", support)
            return support
        }

        plugin.unary("RecordTraining") { (request: Convene_Training_V1_RecordTrainingRequest, context) -> Convene_Training_V1_Training in
            try requireSecretariat(context, "records training")
            let centre = try requireCentre(request.centreID, context)
            // The trainees are a country's peacekeepers (I.B.1).
            try context.requireCountry(request.partyID, field: "party_id")
            try PluginError.requireText(request.course, field: "course")
            guard request.trainees > 0 else { throw PluginError(CONVENE_INVALID_ARGUMENT, "trainees: must be positive") }
            if !request.operationID.isEmpty {
                try requireContributor(request.partyID, to: request.operationID, context)
            }
            let training = try Convene_Training_V1_Training.with {
                $0.id = "training-\(try context.nextNumber("training"))"
                $0.centreID = centre.id
                $0.partyID = request.partyID
                $0.operationID = request.operationID
                $0.course = request.course
                $0.trainees = request.trainees
            }
            try context.put("training/\(training.id)", training)
            return training
        }

        plugin.unary("ListTraining") { (request: Convene_Training_V1_ListTrainingRequest, context) -> Convene_Training_V1_ListTrainingResponse in
            .with {
                $0.training = context.keys(prefix: "training/").compactMap { context.get($0, as: Convene_Training_V1_Training.self) }
                    .filter { (request.centreID.isEmpty || $0.centreID == request.centreID)
                              && (request.partyID.isEmpty || $0.partyID == request.partyID)
                              && ($0.operationID.isEmpty || context.maySee($0.operationID)) }
            }
        }
        return plugin
    }

    static func requireSecretariat(_ context: PluginContext, _ what: String) throws {
        guard context.hasRole(secretariat) else {
            throw PluginError(CONVENE_PERMISSION_DENIED, "only the Secretariat \(what)")
        }
    }

    /// A support request is the Secretariat's and its centre's host country's business (and
    /// its requester's): a centre is listed to every party, its requests only to these (I.B.1).
    static func maySee(_ support: Convene_Training_V1_SupportRequest, of centre: Convene_Training_V1_Centre,
                       _ context: PluginContext) -> Bool {
        context.hasRole(secretariat) || context.caller == centre.hostPartyID || context.caller == support.requestedByPartyID
    }

    /// Training recorded for an operation is of peacekeepers the country contributes to it, or
    /// may (a potential contributor): otherwise the record would name, to the operation's
    /// readers, a country with no part in it.
    static func requireContributor(_ partyID: String, to operationID: String, _ context: PluginContext) throws {
        try context.requireVisible(operationID, field: "operation_id")
        let operation = try context.call(HostMethods.Consultation.getOperation, .with { $0.operationID = operationID }, asPlugin: true)
        let contributions = try context.call(HostMethods.Consultation.listContributions,
                                             .with { $0.operationID = operationID }, asPlugin: true)
        let personnel: Set<Convene_Consultation_V1_ContributionKind> = [.troops, .militaryObservers, .civilianPolice, .otherCivilianPersonnel]
        guard operation.potentialContributorIds.contains(partyID)
              || contributions.contributions.contains(where: { $0.partyID == partyID && personnel.contains($0.kind) }) else {
            throw PluginError(CONVENE_FAILED_PRECONDITION,
                              "party_id: \(partyID) contributes no personnel to \(operationID) and is not a potential contributor to it: training for an operation is of its peacekeepers (I.B.1)")
        }
    }

    static func requireCentre(_ id: String, _ context: PluginContext) throws -> Convene_Training_V1_Centre {
        guard let centre = context.get("centre/\(id)", as: Convene_Training_V1_Centre.self) else {
            throw PluginError(CONVENE_NOT_FOUND, "centre_id: no centre \(id)")
        }
        return centre
    }
}
