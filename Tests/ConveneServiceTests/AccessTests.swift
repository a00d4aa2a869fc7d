import ConveneClient
import ConveneProtos
import ConveneRPC
import ConveneStore
import ConveneTransport
import XCTest

final class AccessTests: XCTestCase {
    func testCredentialsAreRequiredExceptForHealth() async throws {
        let f = try await Fixture(builtPlugins: false)
        let health = try await f.client.health.check()
        XCTAssertEqual(health.status, .serving)
        await assertRPCError(.unauthenticated, containing: "authorization") {
            try await f.client.unary(CM.listOperations, Convene_Consultation_V1_ListOperationsRequest(),
                                     as: Convene_Consultation_V1_ListOperationsResponse.self)
        }
        await assertRPCError(.unauthenticated, containing: "unknown or revoked") {
            try await f.client.unary(CM.listOperations, Convene_Consultation_V1_ListOperationsRequest(),
                                     as: Convene_Consultation_V1_ListOperationsResponse.self, options: .bearer("cvn_forged"))
        }
        await f.stop(); f.remove()
    }

    /// A call with two credentials is refused, whichever comes first: never served as one of
    /// them (a proxy's own credential appended after the client's was overridden by it).
    func testACallCarryingTwoCredentialsIsRefused() async throws {
        let f = try await Fixture()
        try await f.registerParties()
        for order in [["Secretariat", "Troops"], ["Troops", "Secretariat"]] {
            var options = f.options(order[0])
            options.metadata.add("authorization", f.options(order[1]).metadata["authorization"]!)
            await assertRPCError(.unauthenticated, containing: "more than one 'authorization' value") {
                try await f.client.unary(CM.listOperations, Convene_Consultation_V1_ListOperationsRequest(),
                                         as: Convene_Consultation_V1_ListOperationsResponse.self, options: options)
            }
            // A plugin method too (its credential is checked by the plugin host).
            await assertRPCError(.unauthenticated, containing: "more than one 'authorization' value") {
                try await f.client.unary(MethodDescriptor(service: "convene.friends.v1.GroupsOfFriends", method: "ListGroups", kind: .unary),
                                         Convene_Friends_V1_ListGroupsRequest.with { $0.operationID = "op-1" },
                                         as: Convene_Friends_V1_ListGroupsResponse.self, options: options)
            }
        }
        await f.stop(); f.remove()
    }

    func testAdministrationIsForAdministratorsAndRevocationIsImmediate() async throws {
        let f = try await Fixture(builtPlugins: false)
        try await f.registerParties()
        await assertRPCError(.permissionDenied, containing: "administrator") {
            try await f.client.unary(AM.registerParty, Convene_Admin_V1_RegisterPartyRequest.with {
                $0.name = "Rogue"; $0.kind = .memberState
            }, as: Convene_Parties_V1_Party.self, options: f.options("President"))
        }
        let admin = CallOptions.bearer(try f.adminToken)
        await assertRPCError(.alreadyExists, containing: "'Troops'") {
            try await f.client.unary(AM.registerParty, Convene_Admin_V1_RegisterPartyRequest.with {
                $0.name = "Troops"; $0.kind = .memberState
            }, as: Convene_Parties_V1_Party.self, options: admin)
        }
        await assertRPCError(.invalidArgument, containing: "kind") {
            try await f.client.unary(AM.registerParty, Convene_Admin_V1_RegisterPartyRequest.with { $0.name = "No kind" },
                                     as: Convene_Parties_V1_Party.self, options: admin)
        }
        await assertRPCError(.failedPrecondition, containing: "presidency") {
            try await f.client.unary(AM.setRoles, Convene_Admin_V1_SetRolesRequest.with {
                $0.partyID = f.ids["Member"]!; $0.roles = [.councilPresident]
            }, as: Convene_Parties_V1_Party.self, options: admin)
        }
        // A second credential for Troops, used once, revoked, refused on the next call.
        let second = try await f.client.unary(AM.issueCredential, Convene_Admin_V1_IssueCredentialRequest.with {
            $0.partyID = f.ids["Troops"]!
        }, as: Convene_Admin_V1_IssueCredentialResponse.self, options: admin)
        _ = try await f.client.unary(CM.listOperations, Convene_Consultation_V1_ListOperationsRequest(),
                                     as: Convene_Consultation_V1_ListOperationsResponse.self, options: .bearer(second.token))
        _ = try await f.client.unary(AM.revokeCredential, Convene_Admin_V1_RevokeCredentialRequest.with {
            $0.credentialID = second.credentialID
        }, as: Convene_Admin_V1_RevokeCredentialResponse.self, options: admin)
        await assertRPCError(.unauthenticated) {
            try await f.client.unary(CM.listOperations, Convene_Consultation_V1_ListOperationsRequest(),
                                     as: Convene_Consultation_V1_ListOperationsResponse.self, options: .bearer(second.token))
        }
        // The party's first credential still works.
        _ = try await f.client.unary(CM.listOperations, Convene_Consultation_V1_ListOperationsRequest(),
                                     as: Convene_Consultation_V1_ListOperationsResponse.self, options: f.options("Troops"))
        await f.stop(); f.remove()
    }

    func testTokensAreStoredHashed() async throws {
        let f = try await Fixture(builtPlugins: false)
        try await f.registerParties()
        await f.stop()
        defer { f.remove() }
        // The SQLite file itself (PostgreSQL's tables hold the same columns: ConvenePostgresStore).
        guard f.server.store is SQLiteStore else { throw XCTSkip("reads SQLite's file") }
        let database = try Data(contentsOf: URL(fileURLWithPath: f.dataDirectory + "/convene.sqlite"))
        let wal = (try? Data(contentsOf: URL(fileURLWithPath: f.dataDirectory + "/convene.sqlite-wal"))) ?? Data()
        for token in f.tokens.values {
            XCTAssertNil(database.range(of: Data(token.utf8)), "a token is stored in clear")
            XCTAssertNil(wal.range(of: Data(token.utf8)), "a token is in the WAL in clear")
        }
    }

    func testMalformedAndUnknownIdsNameTheField() async throws {
        let f = try await Fixture(builtPlugins: false)
        try await f.registerParties()
        await assertRPCError(.invalidArgument, containing: "operation_id: 'seven' is not a valid operation id") {
            try await f.client.unary(CM.getOperation, Convene_Consultation_V1_GetOperationRequest.with { $0.operationID = "seven" },
                                     as: Convene_Consultation_V1_Operation.self, options: f.options("Troops"))
        }
        await assertRPCError(.notFound, containing: "no operation op-99") {
            try await f.client.unary(CM.getOperation, Convene_Consultation_V1_GetOperationRequest.with { $0.operationID = "op-99" },
                                     as: Convene_Consultation_V1_Operation.self, options: f.options("Troops"))
        }
        // A refusal that quotes a long input still fits one END frame: its message is cut.
        let long = String(repeating: "7", count: 70_000)
        let quoted = await assertRPCError(.invalidArgument, containing: "operation_id: '777") {
            try await f.client.unary(CM.getOperation, Convene_Consultation_V1_GetOperationRequest.with { $0.operationID = long },
                                     as: Convene_Consultation_V1_Operation.self, options: f.options("Troops"))
        }
        XCTAssertTrue(quoted?.message.hasSuffix("… (cut)") == true)
        XCTAssertLessThanOrEqual(quoted?.message.utf8.count ?? .max, 4096)
        // One spelling per record: another (a plugin keeps ids as text) would name it here only.
        let operation = try await f.makeOperation()
        for alias in ["op-0" + operation.dropFirst(3), "op-+" + operation.dropFirst(3), "op- " + operation.dropFirst(3)] {
            await assertRPCError(.invalidArgument, containing: "is not a valid operation id") {
                try await f.client.unary(CM.getOperation, Convene_Consultation_V1_GetOperationRequest.with { $0.operationID = alias },
                                         as: Convene_Consultation_V1_Operation.self, options: f.options("Troops"))
            }
        }
        await f.stop(); f.remove()
    }
}

import Foundation
