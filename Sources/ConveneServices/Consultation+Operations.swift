import ConveneDomain
import ConveneProtobuf
import ConveneProtos
import ConveneRPC
import ConveneStore
import SwiftProtobuf

/// Operations and their contributors (II.A.2, II.B.2(b), (c), (f)).
extension ConsultationService {
    public func createOperation(_ request: Convene_Consultation_V1_CreateOperationRequest,
                                context: ServerCallContext) async throws -> Convene_Consultation_V1_Operation {
        try OperationRules.checkMayRegister(try await backend.caller(context))
        let name = try requireText(request.name, field: "name", max: 500)
        let phase = Phase(rawValue: request.phase.rawValue) ?? .planning
        do {
            return try await backend.write { [backend] db, events in
                let host = request.hostCountryID.isEmpty ? nil : try db.requireParty(request.hostCountryID, field: "host_country_id")
                if let host { try OperationRules.checkHost(host.party, field: "host_country_id", id: request.hostCountryID) }
                let operation = try db.insert(OperationRecord(name: name, mandate: request.mandate, useOfForce: request.useOfForce,
                                                              phase: phase, hostCountryID: host?.id, createdAt: backend.now))
                events.append(backend.event(operation.id!, "operation.created", subject: PublicID.operation.format(operation.id),
                                            "operation \(name) registered"))
                return operation.proto(potentialContributors: [])
            }
        } catch {
            throw storeError(error, duplicate: "an operation named '\(name)'")
        }
    }

    public func getOperation(_ request: Convene_Consultation_V1_GetOperationRequest,
                             context: ServerCallContext) async throws -> Convene_Consultation_V1_Operation {
        _ = try await backend.caller(context)
        return try await backend.read { db in
            let operation = try db.requireOperation(request.operationID)
            return operation.proto(potentialContributors: try db.potentialContributors(operationID: operation.id!))
        }
    }

    public func listOperations(_ request: Convene_Consultation_V1_ListOperationsRequest,
                               context: ServerCallContext) async throws -> Convene_Consultation_V1_ListOperationsResponse {
        _ = try await backend.caller(context)
        let page = Page(after: try PageToken.after(request.pageToken), size: try PageToken.size(request.pageSize))
        return try await backend.read { db in
            let operations = try db.operations(page)
            return try .with {
                $0.operations = try operations.map { $0.proto(potentialContributors: try db.potentialContributors(operationID: $0.id!)) }
                $0.nextPageToken = PageToken.next(after: operations.last?.id, count: operations.count, size: page.size)
            }
        }
    }

    public func updateMandate(_ request: Convene_Consultation_V1_UpdateMandateRequest,
                              context: ServerCallContext) async throws -> Convene_Consultation_V1_Operation {
        try OperationRules.checkMayChangeMandate(try await backend.caller(context))
        return try await backend.write { [backend] db, events in
            var operation = try db.requireOperation(request.operationID)
            var changes: [String] = []
            if !request.mandate.isEmpty, request.mandate != operation.mandate {
                operation.mandate = request.mandate
                changes.append("mandate")
            }
            if !request.useOfForce.isEmpty, request.useOfForce != operation.useOfForce {
                operation.useOfForce = request.useOfForce
                changes.append("authorization to use force")
            }
            if let phase = Phase(rawValue: request.phase.rawValue), phase != operation.phase {
                try OperationRules.checkPhaseChange(from: operation.phase, to: phase)
                operation.phase = phase
                changes.append("phase")
            }
            try require(!changes.isEmpty, .invalidArgument, "nothing to change: give mandate, use_of_force or phase")
            operation.version += 1
            try db.update(operation)
            events.append(backend.event(operation.id!, "mandate.updated", subject: PublicID.operation.format(operation.id),
                                        "changed: " + changes.joined(separator: ", ")))
            return operation.proto(potentialContributors: try db.potentialContributors(operationID: operation.id!))
        }
    }

    public func recordContribution(_ request: Convene_Consultation_V1_RecordContributionRequest,
                                   context: ServerCallContext) async throws -> Convene_Consultation_V1_Contribution {
        try OperationRules.checkMayRecordContribution(try await backend.caller(context))
        guard let kind = ContributionKind(rawValue: request.kind.rawValue) else {
            throw RPCError(.invalidArgument, "kind: a contribution kind is required (TROOPS, CIVILIAN_POLICE, ...)")
        }
        try require(request.quantity > 0, .invalidArgument, "quantity: must be positive")
        return try await backend.write { [backend] db, events in
            let operation = try db.requireOperation(request.operationID)
            let party = try db.requireParty(request.partyID, field: "party_id")
            try OperationRules.checkMayContribute(party.party)
            let contribution = try db.insert(ContributionRecord(operationID: operation.id!, partyID: party.id!, kind: kind,
                                                                quantity: request.quantity, description: request.description_p))
            events.append(backend.event(operation.id!, "contribution.recorded", subject: PublicID.contribution.format(contribution.id),
                                        "\(party.name): \(request.quantity) \(request.kind)"))
            return contribution.proto
        }
    }

    public func listContributions(_ request: Convene_Consultation_V1_ListContributionsRequest,
                                  context: ServerCallContext) async throws -> Convene_Consultation_V1_ListContributionsResponse {
        _ = try await backend.caller(context)
        return try await backend.read { db in
            let operation = try db.requireOperation(request.operationID)
            return .with { $0.contributions = (try? db.contributions(operationID: operation.id!).map(\.proto)) ?? [] }
        }
    }

    public func identifyPotentialContributor(_ request: Convene_Consultation_V1_IdentifyPotentialContributorRequest,
                                             context: ServerCallContext) async throws -> Convene_Consultation_V1_Operation {
        try OperationRules.checkMayIdentifyPotentialContributor(try await backend.caller(context))
        return try await backend.write { [backend] db, events in
            let operation = try db.requireOperation(request.operationID)
            let party = try db.requireParty(request.partyID, field: "party_id")
            try OperationRules.checkCanContributeTroops(party.party)
            try db.addPotentialContributor(operationID: operation.id!, partyID: party.id!)
            events.append(backend.event(operation.id!, "contributor.identified", subject: PublicID.party.format(party.id),
                                        "\(party.name) identified as a potential contributor (II.A.2)"))
            return operation.proto(potentialContributors: try db.potentialContributors(operationID: operation.id!))
        }
    }
}
