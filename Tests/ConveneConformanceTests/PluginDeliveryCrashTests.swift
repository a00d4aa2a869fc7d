import ConveneClient
import ConveneProtos
import ConveneRPC
import ConveneStore
import ConveneTransport
import Foundation
import SwiftProtobuf
import XCTest

/// Plugins react to each domain event exactly once, across crashes: the real server is
/// killed with SIGKILL at random points while planning meetings are convened and the
/// authorization to use force changes; after a restart every planning meeting has its
/// task force and every change its Military Staff Committee review, none twice.
final class PluginDeliveryCrashTests: XCTestCase {
    typealias C = ConsultationMethods

    struct Parties: Sendable {
        var president: String
        var secretariat: String
    }

    func register(_ client: ConveneClient, admin: String) async throws -> Parties {
        var tokens: [String] = []
        for (name, role) in [("President", Convene_Parties_V1_Role.councilPresident), ("Secretariat", .secretariatStaff)] {
            let party = try await client.unary(AdministrationMethods.registerParty, Convene_Admin_V1_RegisterPartyRequest.with {
                $0.name = name; $0.kind = name == "Secretariat" ? .secretariat : .memberState; $0.roles = [role]
            }, as: Convene_Parties_V1_Party.self, options: .bearer(admin))
            tokens.append(try await client.unary(AdministrationMethods.issueCredential, Convene_Admin_V1_IssueCredentialRequest.with {
                $0.partyID = party.id; $0.label = name
            }, as: Convene_Admin_V1_IssueCredentialResponse.self, options: .bearer(admin)).token)
        }
        return Parties(president: tokens[0], secretariat: tokens[1])
    }

    /// Operations, each with two planning meetings and three changes of the authorization to
    /// use force ("force-1", "force-2", "force-3"), one after the other until the kill.
    static func load(_ client: ConveneClient, _ parties: Parties, round: Int, worker: Int) async {
        let president = CallOptions.bearer(parties.president, timeout: .seconds(5))
        for index in 0..<200 {
            do {
                let operation = try await client.unary(C.createOperation, Convene_Consultation_V1_CreateOperationRequest.with {
                    $0.name = "op-\(round)-\(worker)-\(index)"; $0.mandate = "Observe"; $0.useOfForce = "force-0"; $0.phase = .planning
                }, as: Convene_Consultation_V1_Operation.self, options: .bearer(parties.secretariat, timeout: .seconds(5)))
                for meeting in 0..<2 {
                    _ = try await client.unary(C.conveneMeeting, Convene_Consultation_V1_ConveneMeetingRequest.with {
                        $0.operationID = operation.id; $0.form = .consultationMeeting; $0.stage = .missionPlanning
                        $0.scheduledTime = .init(seconds: 1_800_000_000 + Int64(meeting))
                        $0.informalPaper = .with { $0.agenda = "Concept of operations"; $0.issues = ["Force generation"] }
                    }, as: Convene_Consultation_V1_Meeting.self, options: president)
                    for change in [2 * meeting + 1, 2 * meeting + 2] where change <= 3 {
                        _ = try await client.unary(C.updateMandate, Convene_Consultation_V1_UpdateMandateRequest.with {
                            $0.operationID = operation.id; $0.useOfForce = "force-\(change)"
                        }, as: Convene_Consultation_V1_Operation.self, options: president)
                    }
                }
            } catch {
                return  // the server is gone
            }
        }
    }

    func testEveryReactionHappensOnceAcrossRepeatedSIGKILL() async throws {
        try await killRepeatedly(rounds: 8, arguments: [])
    }

    func testEveryReactionHappensOnceAcrossRepeatedSIGKILLWithIsolatedPlugins() async throws {
        try await killRepeatedly(rounds: 5, arguments: ["--plugin-isolation", "process"])
    }

    func killRepeatedly(rounds: Int, arguments: [String]) async throws {
        let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("convene-delivery-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dataDir) }
        let port = unusedLocalPort()
        var parties: Parties?
        for round in 0..<rounds {
            let server = try ConvenedProcess(port: port, dataDir: dataDir, arguments: arguments)
            let client = ConveneClient(host: "127.0.0.1", port: port)
            let healthy = await ConvenedProcess.waitHealthy(client)
            XCTAssertTrue(healthy, "round \(round): the server did not start")
            if parties == nil { parties = try await register(client, admin: try server.adminToken) }
            let known = parties!
            let workers = (0..<2).map { worker in
                Task { await Self.load(client, known, round: round, worker: worker) }
            }
            try await Task.sleep(for: .milliseconds(Int.random(in: 300...1_200)))
            server.kill()
            for worker in workers { await worker.value }
            await client.close()
        }

        let server = try ConvenedProcess(port: port, dataDir: dataDir, arguments: arguments)
        defer { _ = server.terminate(within: 15) }
        let client = ConveneClient(host: "127.0.0.1", port: port)
        let healthy = await ConvenedProcess.waitHealthy(client)
        XCTAssertTrue(healthy)
        let president = CallOptions.bearer(try XCTUnwrap(parties).president, timeout: .seconds(10))
        let operations = try await client.unary(C.listOperations, Convene_Consultation_V1_ListOperationsRequest.with { $0.pageSize = 1000 },
                                                as: Convene_Consultation_V1_ListOperationsResponse.self, options: president).operations
        XCTAssertGreaterThan(operations.count, rounds, "each round created operations")

        // Reactions catch up (90 s at most): then each expected reaction is there, exactly once.
        var problems: [String] = []
        let deadline = ContinuousClock.now.advanced(by: .seconds(90))
        repeat {
            problems = try await Self.check(operations, client, president)
            if problems.isEmpty { break }
            try await Task.sleep(for: .milliseconds(500))
        } while ContinuousClock.now < deadline
        XCTAssertEqual(Array(problems.prefix(5)), [], "\(problems.count) operations are off")
        if problems.isEmpty {
            print("plugin delivery \(arguments): \(rounds) SIGKILLs, \(operations.count) operations; every task force and review there once")
        }
        await client.close()
    }

    /// What is wrong with the plugins' reactions on each operation (empty when all is right).
    static func check(_ operations: [Convene_Consultation_V1_Operation], _ client: ConveneClient,
                      _ options: CallOptions) async throws -> [String] {
        var problems: [String] = []
        for operation in operations {
            let meetings = try await client.unary(C.listMeetings, Convene_Consultation_V1_ListMeetingsRequest.with {
                $0.operationID = operation.id; $0.pageSize = 100
            }, as: Convene_Consultation_V1_ListMeetingsResponse.self, options: options).meetings
            if let first = meetings.min(by: { $0.id.count == $1.id.count ? $0.id < $1.id : $0.id.count < $1.id.count }) {
                let force = try? await client.unary(MethodDescriptor(service: "convene.taskforce.v1.MissionTaskForces", method: "GetTaskForce",
                                                                     kind: .unary),
                                                    Convene_Taskforce_V1_GetTaskForceRequest.with { $0.operationID = operation.id },
                                                    as: Convene_Taskforce_V1_TaskForce.self, options: options)
                if force?.formedByMeetingID != first.id {
                    problems.append("\(operation.id): task force formed by \(force?.formedByMeetingID ?? "none"), not \(first.id)")
                }
            }
            // The changes are made one after the other: "force-N" means N of them committed.
            let current = try await client.unary(C.getOperation, Convene_Consultation_V1_GetOperationRequest.with { $0.operationID = operation.id },
                                                 as: Convene_Consultation_V1_Operation.self, options: options)
            let changes = Int(current.useOfForce.dropFirst("force-".count)) ?? -1
            let reviews = try await client.unary(MethodDescriptor(service: "convene.msc.v1.MilitaryStaffCommittee", method: "ListReviews",
                                                                  kind: .unary),
                                                 Convene_Msc_V1_ListReviewsRequest.with { $0.operationID = operation.id },
                                                 as: Convene_Msc_V1_ListReviewsResponse.self, options: options).reviews
            let forceReviews = reviews.filter { $0.subjectID == operation.id }.count
            if forceReviews != changes {
                problems.append("\(operation.id): \(changes) changes of the authorization to use force, \(forceReviews) reviews")
            }
        }
        return problems
    }

    func testSIGTERMEndsTheServerWithinItsGraceEvenWithHungPluginCalls() async throws {
        let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("convene-hung-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dataDir) }
        let port = unusedLocalPort()
        let server = try ConvenedProcess(port: port, dataDir: dataDir, arguments: ["--shutdown-grace", "1"])
        defer { if server.process.isRunning { server.kill() } }
        let client = ConveneClient(host: "127.0.0.1", port: port)
        let healthy = await ConvenedProcess.waitHealthy(client)
        XCTAssertTrue(healthy)
        let admin = try server.adminToken
        _ = try await client.unary(PluginAdministrationMethods.loadPlugin, Convene_Plugins_V1_LoadPluginRequest.with {
            $0.path = ConvenedProcess.binDirectory.appendingPathComponent("libConveneFixture_Behaviour.so").path
        }, as: Convene_Plugins_V1_PluginInfo.self, options: .bearer(admin))
        // Five calls that hang for 60 s, without a deadline.
        let hung = (0..<5).map { _ in
            Task {
                try? await client.unary(path: "/test.Behaviour/Hang", request: .init(bytes: [0x60, 0xEA, 0, 0]), options: .bearer(admin))
            }
        }
        try await Task.sleep(for: .milliseconds(500))
        XCTAssertTrue(server.terminate(within: 15), "convened did not exit after SIGTERM")
        XCTAssertEqual(server.process.terminationStatus, 0)
        for call in hung { _ = await call.value }
        await client.close()
    }
}
