// Reconnaissance visits (resolution 1353 (2001), I.B.6), in Swift with the plugin SDK.
//
// Storage: "visit/<id>" -> Visit, "seq/visit" -> counter.
import ConveneMessages
import ConvenePluginSDK
import Foundation

enum ReconnaissanceVisits {
    typealias Visit = Convene_Recon_V1_Visit
    static let personnel: Set<Convene_Consultation_V1_ContributionKind> = [.troops, .militaryObservers, .civilianPolice]

    static var definition: PluginDefinition {
        var plugin = PluginDefinition(name: "reconnaissance-visits", version: "1.0.0",
                                      service: "convene.recon.v1.ReconnaissanceVisits", descriptorSet: reconDescriptorSet)

        plugin.unary("RequestVisit") { (request: Convene_Recon_V1_RequestVisitRequest, context) -> Visit in
            try PluginError.requireText(request.purpose, field: "purpose")
            guard request.teamSize > 0, request.teamSize <= 50 else {
                throw PluginError(CONVENE_INVALID_ARGUMENT, "team_size: 1 to 50")
            }
            // A country committing troops: a contributor of personnel, or identified by the SG (II.A.2).
            let operation = try context.call(HostMethods.Consultation.getOperation, .with { $0.operationID = request.operationID })
            guard operation.phase != .terminated else {
                throw PluginError(CONVENE_FAILED_PRECONDITION,
                                  "operation \(request.operationID) is terminated; reconnaissance visits prepare countries to deploy (I.B.6)")
            }
            let contributions = try context.call(HostMethods.Consultation.listContributions,
                                                 .with { $0.operationID = request.operationID }, asPlugin: true)
            let committing = contributions.contributions.contains { $0.partyID == context.caller && personnel.contains($0.kind) }
                || operation.potentialContributorIds.contains(context.caller)
            guard committing else {
                throw PluginError(CONVENE_PERMISSION_DENIED,
                                  "reconnaissance visits are for countries committing troops to \(request.operationID) (I.B.6)")
            }
            let visit = try Visit.with {
                $0.id = "visit-\(try context.nextNumber("visit"))"
                $0.operationID = request.operationID
                $0.partyID = context.caller
                $0.purpose = request.purpose
                $0.teamSize = request.teamSize
                $0.status = .requested
            }
            try context.put("visit/\(visit.id)", visit)
            // Seen by those who may list the visit (mayList), not by every party of the operation.
            try context.emit(about: request.operationID, kind: "recon.visit_requested", "reconnaissance visit requested (I.B.6)",
                         to: .councilSecretariatAnd(party: context.caller))
            return visit
        }

        plugin.unary("ScheduleVisit") { (request: Convene_Recon_V1_ScheduleVisitRequest, context) -> Visit in
            try context.require("the Secretariat schedules reconnaissance visits (I.B.6)", anyOf: PartyRole.secretariat)
            var visit = try load(request.visitID, context)
            guard visit.status == .requested else {
                throw PluginError(CONVENE_FAILED_PRECONDITION, "visit \(visit.id) is \(visit.status), not requested")
            }
            let dates = try PluginError.requireText(request.dates, field: "dates")
            let itinerary = request.itinerary.isEmpty ? "" : try PluginError.requireText(request.itinerary, field: "itinerary")
            // A visit prepares a country to deploy (I.B.6): none is scheduled once the operation ended.
            let operation = try context.call(HostMethods.Consultation.getOperation, .with { $0.operationID = visit.operationID }, asPlugin: true)
            guard operation.phase != .terminated else {
                throw PluginError(CONVENE_FAILED_PRECONDITION,
                                  "operation \(visit.operationID) is terminated; reconnaissance visits prepare countries to deploy (I.B.6): decline the visit")
            }
            visit.status = .scheduled
            visit.dates = dates
            visit.itinerary = itinerary
            try context.put("visit/\(visit.id)", visit)
            return visit
        }

        plugin.unary("DeclineVisit") { (request: Convene_Recon_V1_DeclineVisitRequest, context) -> Visit in
            try context.require("the Secretariat decides on reconnaissance visits (I.B.6)", anyOf: PartyRole.secretariat)
            var visit = try load(request.visitID, context)
            guard visit.status == .requested else {
                throw PluginError(CONVENE_FAILED_PRECONDITION, "visit \(visit.id) is \(visit.status), not requested")
            }
            try PluginError.requireText(request.reason, field: "reason")
            visit.status = .declined
            visit.declineReason = request.reason
            try context.put("visit/\(visit.id)", visit)
            return visit
        }

        plugin.unary("RequestSupport") { (request: Convene_Recon_V1_RequestSupportRequest, context) -> Visit in
            var visit = try load(request.visitID, context)
            guard visit.partyID == context.caller else {
                // A visit the caller may not list is answered as one that does not exist.
                guard mayList(visit, context) else { throw PluginError(CONVENE_NOT_FOUND, "visit_id: no visit \(request.visitID)") }
                throw PluginError(CONVENE_PERMISSION_DENIED, "only the visiting country asks for support for its visit")
            }
            guard visit.status == .requested || visit.status == .scheduled else {
                throw PluginError(CONVENE_FAILED_PRECONDITION, "visit \(visit.id) is \(visit.status)")
            }
            try PluginError.requireText(request.need, field: "need")
            visit.support.append(.with { $0.need = request.need })
            try context.put("visit/\(visit.id)", visit)
            return visit
        }

        plugin.unary("AnswerSupport") { (request: Convene_Recon_V1_AnswerSupportRequest, context) -> Visit in
            try context.require("the Secretariat supports reconnaissance visits (I.B.6)", anyOf: PartyRole.secretariat)
            var visit = try load(request.visitID, context)
            guard request.index >= 0, Int(request.index) < visit.support.count else {
                throw PluginError(CONVENE_NOT_FOUND, "index: visit \(visit.id) has \(visit.support.count) support requests")
            }
            let answer = try PluginError.requireText(request.answer, field: "answer")
            // The answer is what the country was told: a second one would replace it without a trace.
            guard visit.support[Int(request.index)].answer.isEmpty else {
                throw PluginError(CONVENE_FAILED_PRECONDITION,
                                  "support request \(request.index) of \(visit.id) was answered already; an answer is not replaced")
            }
            visit.support[Int(request.index)].answer = answer
            try context.put("visit/\(visit.id)", visit)
            return visit
        }

        plugin.unary("SubmitReport") { (request: Convene_Recon_V1_SubmitReportRequest, context) -> Visit in
            var visit = try load(request.visitID, context)
            guard visit.partyID == context.caller else {
                // A visit the caller may not list is answered as one that does not exist.
                guard mayList(visit, context) else { throw PluginError(CONVENE_NOT_FOUND, "visit_id: no visit \(request.visitID)") }
                throw PluginError(CONVENE_PERMISSION_DENIED, "only the visiting country reports on its visit")
            }
            guard visit.status == .scheduled else {
                let why = visit.status == .completed ? "was reported on already" : "is \(visit.status), not scheduled"
                throw PluginError(CONVENE_FAILED_PRECONDITION, "visit \(visit.id) \(why)")
            }
            try PluginError.requireText(request.report, field: "report")
            visit.status = .completed
            visit.report = request.report
            try context.put("visit/\(visit.id)", visit)
            return visit
        }

        plugin.unary("ListVisits") { (request: Convene_Recon_V1_ListVisitsRequest, context) -> Convene_Recon_V1_ListVisitsResponse in
            if !request.operationID.isEmpty { try context.requireVisible(request.operationID, field: "operation_id") }
            let all = context.all("visit/", as: Visit.self).filter { request.operationID.isEmpty || $0.operationID == request.operationID }
            return .with { $0.visits = all.filter { mayList($0, context) } }
        }
        return plugin
    }

    /// The Secretariat and the Council see every visit; a country, its own.
    static func mayList(_ visit: Visit, _ context: PluginContext) -> Bool {
        context.hasRole(PartyRole.secretariat) || context.isCouncil || visit.partyID == context.caller
    }

    static func load(_ id: String, _ context: PluginContext) throws -> Visit {
        guard let visit = context.get("visit/\(id)", as: Visit.self) else {
            throw PluginError(CONVENE_NOT_FOUND, "visit_id: no visit \(id)")
        }
        return visit
    }
}
