import ConveneDomain
import ConveneProtobuf
import ConveneProtos
import ConveneRPC
import ConveneStore
import SwiftProtobuf

/// Operations and their contributors (II.A.2, II.B.2(b), (c), (f), II.B.3).
extension ConsultationService {
    public func createOperation(_ request: Convene_Consultation_V1_CreateOperationRequest,
                                context: ServerCallContext) async throws -> Convene_Consultation_V1_Operation {
        try OperationRules.checkMayRegister(try await backend.caller(context))
        let name = try requireText(request.name, field: "name", max: 500)
        try request.phase.checkKnown(field: "phase")
        let phase = Phase(rawValue: request.phase.rawValue) ?? .planning  // left out: planning
        do {
            return try await backend.write { [backend] db, events in
                let host = request.hostCountryID.isEmpty ? nil : try db.requireParty(request.hostCountryID, field: "host_country_id")
                if let host { try OperationRules.checkHost(host.party, field: "host_country_id", id: request.hostCountryID) }
                let operation = try db.insert(OperationRecord(name: name, mandate: request.mandate, useOfForce: request.useOfForce,
                                                              phase: phase, hostCountryID: host?.id, createdAt: backend.now))
                events.append(backend.event(operation.id!, .operationCreated, subject: PublicID.operation.format(operation.id),
                                            "operation \(name) registered", audience: .operation))
                return operation.proto(potentialContributors: [])
            }
        } catch {
            throw storeError(error, duplicate: "an operation named '\(name)'")
        }
    }

    public func getOperation(_ request: Convene_Consultation_V1_GetOperationRequest,
                             context: ServerCallContext) async throws -> Convene_Consultation_V1_Operation {
        let caller = try await backend.caller(context)
        return try await backend.read { db in
            try db.operationProto(try db.requireOperation(request.operationID), for: caller)
        }
    }

    public func listOperations(_ request: Convene_Consultation_V1_ListOperationsRequest,
                               context: ServerCallContext) async throws -> Convene_Consultation_V1_ListOperationsResponse {
        let caller = try await backend.caller(context)
        let page = Page(after: try PageToken.after(request.pageToken), size: try PageToken.size(request.pageSize))
        return try await backend.read { db in
            let operations = try db.operations(page)
            return try .with {
                $0.operations = try operations.map { try db.operationProto($0, for: caller) }
                $0.nextPageToken = PageToken.next(after: operations.last?.id, count: operations.count, size: page.size)
            }
        }
    }

    public func updateMandate(_ request: Convene_Consultation_V1_UpdateMandateRequest,
                              context: ServerCallContext) async throws -> Convene_Consultation_V1_Operation {
        try OperationRules.checkMayChangeMandate(try await backend.caller(context))
        try request.phase.checkKnown(field: "phase")
        let phase = Phase(rawValue: request.phase.rawValue)
        return try await backend.write { [backend] db, events in
            var operation = try db.requireOperation(request.operationID)
            let changed = try OperationRules.changes([
                ("mandate", !request.mandate.isEmpty, request.mandate != operation.mandate),
                ("use_of_force", !request.useOfForce.isEmpty, request.useOfForce != operation.useOfForce),
                ("phase", phase != nil, phase != operation.phase),
            ])
            if changed.contains("mandate") { operation.mandate = request.mandate }
            if changed.contains("use_of_force") { operation.useOfForce = request.useOfForce }
            if changed.contains("phase"), let phase {
                try OperationRules.checkPhaseChange(from: operation.phase, to: phase)
                operation.phase = phase
            }
            operation.version += 1
            try db.update(operation)
            // In words (the Military Staff Committee plugin reads "authorization to use force").
            let words = ["mandate": "mandate", "use_of_force": "authorization to use force", "phase": "phase"]
            events.append(backend.event(operation.id!, .mandateUpdated, subject: PublicID.operation.format(operation.id),
                                        "changed: " + changed.map { words[$0] ?? $0 }.joined(separator: ", "), audience: .operation))
            if changed.contains("phase"), operation.phase == .terminated {
                try declinePendingRequests(of: operation, backend, db, &events)
            }
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
            try OperationRules.checkTakesContributors(phase: operation.phase, operationID: request.operationID)
            let party = try db.requireParty(request.partyID, field: "party_id")
            try OperationRules.checkMayContribute(party.party, kind: kind, partyText: request.partyID)
            let contribution = try db.insert(ContributionRecord(operationID: operation.id!, partyID: party.id!, kind: kind,
                                                                quantity: request.quantity, description: request.description_p))
            try db.inviteWhomTheOperationNowRequires(operation: operation, now: backend.now)
            events.append(backend.event(operation.id!, .contributionRecorded, subject: PublicID.contribution.format(contribution.id),
                                        "\(party.name): \(request.quantity) \(kind.name)", audience: .operation))
            return contribution.proto
        }
    }

    public func listContributions(_ request: Convene_Consultation_V1_ListContributionsRequest,
                                  context: ServerCallContext) async throws -> Convene_Consultation_V1_ListContributionsResponse {
        let caller = try await backend.caller(context)
        return try await backend.read { db in
            let (operation, _, _) = try db.requireReadableOperation(request.operationID, caller: caller, reading: "the contributions")
            return .with { $0.contributions = (try? db.contributions(operationID: operation.id!).map(\.proto)) ?? [] }
        }
    }

    public func identifyPotentialContributor(_ request: Convene_Consultation_V1_IdentifyPotentialContributorRequest,
                                             context: ServerCallContext) async throws -> Convene_Consultation_V1_Operation {
        try OperationRules.checkMayIdentifyPotentialContributor(try await backend.caller(context))
        return try await backend.write { [backend] db, events in
            let operation = try db.requireOperation(request.operationID)
            try OperationRules.checkTakesContributors(phase: operation.phase, operationID: request.operationID)
            let party = try db.requireParty(request.partyID, field: "party_id")
            try OperationRules.checkCanContributeTroops(party.party)
            try OperationRules.checkMayBeIdentified(
                party.party, partyText: request.partyID, operationID: request.operationID, isHost: operation.hostCountryID == party.id,
                contributesPersonnel: try db.contributions(operationID: operation.id!).contains {
                    $0.partyID == party.id && ContributionKind(rawValue: $0.kind)?.isPersonnel == true
                },
                identified: try db.potentialContributors(operationID: operation.id!).contains(party.id!))
            try db.addPotentialContributor(operationID: operation.id!, partyID: party.id!)
            try db.inviteWhomTheOperationNowRequires(operation: operation, now: backend.now)
            events.append(backend.event(operation.id!, .contributorIdentified, subject: PublicID.party.format(party.id),
                                        "\(party.name) identified as a potential contributor (II.A.2)", audience: .operation))
            return operation.proto(potentialContributors: try db.potentialContributors(operationID: operation.id!))
        }
    }
}

extension StoreReader {
    /// An operation as `caller` sees it: in full, or its id and name only (`limited`) for a party
    /// that takes no part in it.
    func operationProto(_ operation: OperationRecord, for caller: Party) throws -> Convene_Consultation_V1_Operation {
        guard try access(caller, to: operation).access != .existenceOnly else {
            return .with {
                $0.id = PublicID.operation.format(operation.id)
                $0.name = operation.name
                $0.limited = true
            }
        }
        return operation.proto(potentialContributors: try potentialContributors(operationID: operation.id!))
    }
}

/// A terminated operation gets no new meeting (M23), so a request for one still pending
/// could never be met: it ends with the termination, declined with that reason, and its
/// requester is told as of any declined request.
private func declinePendingRequests(of operation: OperationRecord, _ backend: Backend, _ db: any StoreWriter,
                                    _ events: inout [EventRecord]) throws {
    let reason = "the operation was terminated; no meeting is convened on it (II.B.2(f), M23)"
    for var record in try db.requests(operationID: operation.id!, status: .pending) {
        record.status = .declined
        record.declineReason = reason
        try db.update(record)
        events.append(backend.event(operation.id!, .meetingRequestDeclined, subject: PublicID.request.format(record.id),
                                    "declined: \(reason)", audience: .request(requestedBy: record.requestedBy)))
    }
}
