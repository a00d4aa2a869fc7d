import ConveneClient
import ConveneProtos
import ConveneRPC
import ConveneServer
import ConveneTransport
import Foundation
import XCTest

/// Who may call what, over a real socket: health and reflection answer anyone; the
/// benchmark service answers the administrator and parties with the OPERATOR role (or
/// anyone with --open-benchmark), its synchronous echo as its streams; a revoked
/// credential or a removed role takes effect on the next call, cached decisions included.
final class BenchmarkAccessTests: XCTestCase {
    func register(_ name: String, roles: [Convene_Parties_V1_Role], in f: Fixture) async throws -> (id: String, credential: String, token: String) {
        let admin = CallOptions.bearer(try f.adminToken)
        let party = try await f.client.unary(AM.registerParty, Convene_Admin_V1_RegisterPartyRequest.with {
            // The Council's roles are a Member State's; an operator may be any party.
            $0.name = name; $0.kind = roles.contains(.councilMember) ? .memberState : .otherBody; $0.roles = roles
        }, as: Convene_Parties_V1_Party.self, options: admin)
        let issued = try await f.client.unary(AM.issueCredential, Convene_Admin_V1_IssueCredentialRequest.with {
            $0.partyID = party.id; $0.label = name
        }, as: Convene_Admin_V1_IssueCredentialResponse.self, options: admin)
        return (party.id, issued.credentialID, issued.token)
    }

    func testTheBenchmarkAnswersTheAdministratorAndOperatorsOnlyAndRevocationTakesEffectOnTheNextCall() async throws {
        let f = try await Fixture(builtPlugins: false)
        defer { f.remove() }
        let client = f.client!
        // Open: health and reflection.
        let health = try await client.health.check()
        XCTAssertEqual(health.status, .serving)
        _ = try await client.reflection.listServices()
        _ = try await client.unary(GRPCHealthMethods.check, Grpc_Health_V1_HealthCheckRequest(), as: Grpc_Health_V1_HealthCheckResponse.self)
        // No credential, a wrong one, a party without the role.
        let none = await assertRPCError(.unauthenticated) { try await client.benchmark.echo([1]) }
        XCTAssertEqual(none?.message, "no credential: send metadata 'authorization: Bearer <token>'")
        await assertRPCError(.unauthenticated) { try await client.benchmark.echo([1], options: .bearer("not-a-token")) }
        await assertRPCError(.unauthenticated) {
            let call = try await client.benchmark.streamFromServer(count: 1, size: 1)
            for try await _ in call.responses {}
        }
        let member = try await register("Member", roles: [.councilMember], in: f)
        let denied = await assertRPCError(.permissionDenied) { try await client.benchmark.echo([1], options: .bearer(member.token)) }
        XCTAssertTrue(denied?.message.contains("OPERATOR role") ?? false, "\(String(describing: denied))")
        // The administrator and an operator may, echo (inline, cached) and streams.
        let admin = try await client.benchmark.echo([1, 2], options: .bearer(try f.adminToken))
        XCTAssertEqual(admin.payload, Data([1, 2]))
        let op = try await register("Load tester", roles: [.operator], in: f)
        for _ in 0..<3 {
            let echoed = try await client.benchmark.echo([3], options: .bearer(op.token))
            XCTAssertEqual(echoed.payload, Data([3]))
        }
        let stream = try await client.benchmark.streamFromServer(count: 2, size: 3, options: .bearer(op.token))
        var received = 0
        for try await _ in stream.responses { received += 1 }
        XCTAssertEqual(received, 2)
        // The operator's role is taken away: the next call is refused, though its echo was cached.
        _ = try await client.unary(AM.setRoles, Convene_Admin_V1_SetRolesRequest.with { $0.partyID = op.id; $0.roles = [] },
                                   as: Convene_Parties_V1_Party.self, options: .bearer(try f.adminToken))
        await assertRPCError(.permissionDenied) { try await client.benchmark.echo([4], options: .bearer(op.token)) }
        // Given back, then the credential revoked: refused at once.
        _ = try await client.unary(AM.setRoles, Convene_Admin_V1_SetRolesRequest.with { $0.partyID = op.id; $0.roles = [.operator] },
                                   as: Convene_Parties_V1_Party.self, options: .bearer(try f.adminToken))
        _ = try await client.benchmark.echo([5], options: .bearer(op.token))
        _ = try await client.unary(AM.revokeCredential, Convene_Admin_V1_RevokeCredentialRequest.with { $0.credentialID = op.credential },
                                   as: Convene_Admin_V1_RevokeCredentialResponse.self, options: .bearer(try f.adminToken))
        await assertRPCError(.unauthenticated) { try await client.benchmark.echo([6], options: .bearer(op.token)) }
        await f.stop()
    }

    func testOpenBenchmarkLetsAnyoneCall() async throws {
        try await withServer({ $0.openBenchmark = true }) { _, client in
            let echoed = try await client.benchmark.echo([7])
            XCTAssertEqual(echoed.payload, Data([7]))
        }
    }
}
