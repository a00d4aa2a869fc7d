import ConveneDomain
import ConveneProtobuf
import ConveneProtos
import ConveneRPC
import ConveneStore
import SwiftProtobuf

extension ConsultationService {
    func registerOperations(with router: Router) throws {
        typealias M = ConsultationMethods

        try router.registerAsyncUnary(M.createOperation) {
            (request: Convene_Consultation_V1_CreateOperationRequest, context, _) -> Convene_Consultation_V1_Operation in
            let caller = try await caller(context)
            try require(caller.isSecretariat || caller.isPresident, .permissionDenied,
                        "only the Secretariat or the Council President registers operations")
            let name = try requireText(request.name, field: "name", max: 500)
            let phase = Phase(rawValue: request.phase.rawValue) ?? .planning
            do {
                return try await write { db, events in
                    let host = request.hostCountryID.isEmpty ? nil : try db.requireParty(request.hostCountryID, field: "host_country_id")
                    if let host { try require(host.party.kind == .memberState, .invalidArgument,
                                              "host_country_id: \(request.hostCountryID) is not a member state") }
                    let operation = try db.insert(OperationRecord(name: name, mandate: request.mandate,
                                                                  useOfForce: request.useOfForce, phase: phase,
                                                                  hostCountryID: host?.id, createdAt: Clock.nowMillis()))
                    events.append(event(operation.id!, "operation.created", subject: PublicID.operation.format(operation.id),
                                        "operation \(name) registered"))
                    return operation.proto(potentialContributors: [])
                }
            } catch {
                throw storeError(error, duplicate: "an operation named '\(name)'")
            }
        }

        try router.registerAsyncUnary(M.getOperation) {
            (request: Convene_Consultation_V1_GetOperationRequest, context, _) -> Convene_Consultation_V1_Operation in
            _ = try await caller(context)
            return try await store.read { db in
                let operation = try db.requireOperation(request.operationID)
                return operation.proto(potentialContributors: try db.potentialContributors(operationID: operation.id!))
            }
        }

        try router.registerAsyncUnary(M.listOperations) {
            (request: Convene_Consultation_V1_ListOperationsRequest, context, _) -> Convene_Consultation_V1_ListOperationsResponse in
            _ = try await caller(context)
            let page = Page(after: try PageToken.after(request.pageToken), size: try PageToken.size(request.pageSize))
            return try await store.read { db in
                let operations = try db.operations(page)
                return try .with {
                    $0.operations = try operations.map { $0.proto(potentialContributors: try db.potentialContributors(operationID: $0.id!)) }
                    if operations.count == page.size, let last = operations.last?.id { $0.nextPageToken = String(last) }
                }
            }
        }

        try router.registerAsyncUnary(M.updateMandate) {
            (request: Convene_Consultation_V1_UpdateMandateRequest, context, _) -> Convene_Consultation_V1_Operation in
            let caller = try await caller(context)
            try require(caller.isPresident, .permissionDenied,
                        "only the Council President records a mandate change, renewal or completion (II.A.2, II.B.2(b), (c), (f))")
            return try await write { db, events in
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
                if request.phase != .unspecified, let phase = Phase(rawValue: request.phase.rawValue),
                   phase.rawValue != operation.phase {
                    try require(phase.rawValue >= operation.phase, .failedPrecondition,
                                "phase: an operation does not go back from \(operation.phase) to \(phase.rawValue)")
                    operation.phase = phase.rawValue
                    changes.append("phase")
                }
                try require(!changes.isEmpty, .invalidArgument, "nothing to change: give mandate, use_of_force or phase")
                operation.version += 1
                try db.update(operation)
                events.append(event(operation.id!, "mandate.updated", subject: PublicID.operation.format(operation.id),
                                    "changed: " + changes.joined(separator: ", ")))
                return operation.proto(potentialContributors: try db.potentialContributors(operationID: operation.id!))
            }
        }

        try router.registerAsyncUnary(M.recordContribution) {
            (request: Convene_Consultation_V1_RecordContributionRequest, context, _) -> Convene_Consultation_V1_Contribution in
            let caller = try await caller(context)
            try require(caller.isSecretariat, .permissionDenied, "only the Secretariat records contributions")
            guard let kind = ContributionKind(rawValue: request.kind.rawValue) else {
                throw RPCError(.invalidArgument, "kind: a contribution kind is required (TROOPS, CIVILIAN_POLICE, ...)")
            }
            try require(request.quantity > 0, .invalidArgument, "quantity: must be positive")
            return try await write { db, events in
                let operation = try db.requireOperation(request.operationID)
                let party = try db.requireParty(request.partyID, field: "party_id")
                try require(party.party.kind != .secretariat, .invalidArgument,
                            "party_id: the Secretariat does not contribute to operations")
                let contribution = try db.insert(ContributionRecord(operationID: operation.id!, partyID: party.id!, kind: kind,
                                                                    quantity: request.quantity, description: request.description_p))
                events.append(event(operation.id!, "contribution.recorded", subject: PublicID.contribution.format(contribution.id),
                                    "\(party.name): \(request.quantity) \(request.kind)"))
                return contribution.proto
            }
        }

        try router.registerAsyncUnary(M.listContributions) {
            (request: Convene_Consultation_V1_ListContributionsRequest, context, _) -> Convene_Consultation_V1_ListContributionsResponse in
            _ = try await caller(context)
            return try await store.read { db in
                let operation = try db.requireOperation(request.operationID)
                return .with { $0.contributions = (try? db.contributions(operationID: operation.id!).map(\.proto)) ?? [] }
            }
        }

        try router.registerAsyncUnary(M.identifyPotentialContributor) {
            (request: Convene_Consultation_V1_IdentifyPotentialContributorRequest, context, _) -> Convene_Consultation_V1_Operation in
            let caller = try await caller(context)
            try require(caller.isSecretariat, .permissionDenied,
                        "potential contributors are identified by the Secretary-General (II.A.2)")
            return try await write { db, events in
                let operation = try db.requireOperation(request.operationID)
                let party = try db.requireParty(request.partyID, field: "party_id")
                try require(party.party.kind == .memberState || party.party.kind == .regionalOrganization
                            || party.party.kind == .subregionalOrganization, .invalidArgument,
                            "party_id: \(party.name) cannot contribute troops")
                try db.addPotentialContributor(operationID: operation.id!, partyID: party.id!)
                events.append(event(operation.id!, "contributor.identified", subject: PublicID.party.format(party.id),
                                    "\(party.name) identified as a potential contributor (II.A.2)"))
                return operation.proto(potentialContributors: try db.potentialContributors(operationID: operation.id!))
            }
        }
    }
}
