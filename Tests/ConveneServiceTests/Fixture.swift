import ConveneClient
import ConvenePluginHost
import ConveneProtos
import ConveneRPC
import ConveneServer
import ConveneTransport
import Foundation
import Logging
import SwiftProtobuf
import XCTest

typealias CM = ConsultationMethods
typealias AM = AdministrationMethods

/// A real server on 127.0.0.1 with a fictional operation's parties registered, each with
/// its own credential.
final class Fixture: @unchecked Sendable {
    let dataDirectory: String
    var server: ConveneServer!
    var port = 0
    var client: ConveneClient!
    var tokens: [String: String] = [:]
    /// Applied to the server's configuration at every (re)start.
    var configure: (inout ServerConfiguration) -> Void = { _ in }
    var ids: [String: String] = [:]

    static let parties: [(String, Convene_Parties_V1_PartyKind, [Convene_Parties_V1_Role])] = [
        ("President", .memberState, [.councilPresident]),
        ("Member", .memberState, [.councilMember]),
        ("Secretariat", .secretariat, [.secretariatStaff]),
        ("Troops", .memberState, []),          // II.B.3(a)
        ("Police", .memberState, []),          // II.B.3(a)
        ("Potential", .memberState, []),       // II.B.3(b)
        ("Agency", .unAgency, []),             // II.B.3(c)
        ("Donor", .memberState, []),           // II.B.3(e)
        ("Host", .memberState, []),            // II.B.3(f)
        ("Regional", .regionalOrganization, []), // II.B.3(h)
        ("Bystander", .memberState, []),
    ]

    init(dataDirectory: String? = nil, configure: @escaping (inout ServerConfiguration) -> Void = { _ in }) async throws {
        self.dataDirectory = dataDirectory ?? FileManager.default.temporaryDirectory
            .appendingPathComponent("convene-svc-\(UUID().uuidString)").path
        self.configure = configure
        try await startServer()
        client = ConveneClient(host: "127.0.0.1", port: port)
    }

    func startServer(port: Int = 0) async throws {
        var configuration = ServerConfiguration()
        configuration.port = port
        configuration.dataDirectory = dataDirectory
        configuration.shutdownGrace = .milliseconds(200)
        configure(&configuration)
        var logger = Logger(label: "svc-test")
        logger.logLevel = ProcessInfo.processInfo.environment["CONVENE_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
        server = try ConveneServer(configuration: configuration, logger: logger)
        self.port = try await server.start().port!
    }

    var adminToken: String {
        get throws {
            try String(contentsOfFile: dataDirectory + "/admin.token", encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    func options(_ name: String) -> CallOptions { .bearer(tokens[name]!) }

    /// Registers every party with a credential.
    func registerParties() async throws {
        let admin = CallOptions.bearer(try adminToken)
        for (name, kind, roles) in Self.parties {
            let party = try await client.unary(AM.registerParty, Convene_Admin_V1_RegisterPartyRequest.with {
                $0.name = name; $0.kind = kind; $0.roles = roles
            }, as: Convene_Parties_V1_Party.self, options: admin)
            ids[name] = party.id
            let credential = try await client.unary(AM.issueCredential, Convene_Admin_V1_IssueCredentialRequest.with {
                $0.partyID = party.id; $0.label = name
            }, as: Convene_Admin_V1_IssueCredentialResponse.self, options: admin)
            tokens[name] = credential.token
        }
    }

    /// An operation with troops, police, a donor, a potential contributor and a host.
    func makeOperation(name: String = "UNMIX") async throws -> String {
        let operation = try await client.unary(CM.createOperation, Convene_Consultation_V1_CreateOperationRequest.with {
            $0.name = name
            $0.mandate = "Monitor the ceasefire"
            $0.useOfForce = "Self-defence only"
            $0.phase = .planning
            $0.hostCountryID = ids["Host"]!
        }, as: Convene_Consultation_V1_Operation.self, options: options("Secretariat"))
        for (party, kind, quantity) in [("Troops", Convene_Consultation_V1_ContributionKind.troops, Int64(850)),
                                        ("Police", .civilianPolice, 120), ("Donor", .trustFund, 2_000_000)] {
            _ = try await client.unary(CM.recordContribution, Convene_Consultation_V1_RecordContributionRequest.with {
                $0.operationID = operation.id; $0.partyID = ids[party]!; $0.kind = kind; $0.quantity = quantity
            }, as: Convene_Consultation_V1_Contribution.self, options: options("Secretariat"))
        }
        _ = try await client.unary(CM.identifyPotentialContributor, Convene_Consultation_V1_IdentifyPotentialContributorRequest.with {
            $0.operationID = operation.id; $0.partyID = ids["Potential"]!
        }, as: Convene_Consultation_V1_Operation.self, options: options("Secretariat"))
        return operation.id
    }

    func convene(_ operationID: String, form: Convene_Consultation_V1_MeetingForm = .consultationMeeting,
                 stage: Convene_Consultation_V1_Stage = .mandateRenewal, at millis: Int64 = 1_800_000_000_000,
                 as caller: String = "President", extra: [String] = [], paper: Bool = true,
                 override: String = "", requestID: String = "") async throws -> Convene_Consultation_V1_Meeting {
        try await client.unary(CM.conveneMeeting, Convene_Consultation_V1_ConveneMeetingRequest.with {
            $0.operationID = operationID
            $0.form = form
            $0.stage = stage
            $0.requestID = requestID
            $0.scheduledTime = .init(seconds: millis / 1000)
            $0.additionalInviteeIds = extra.map { ids[$0]! }
            if paper {
                $0.informalPaper = .with { $0.agenda = "1. Renewal of the mandate"; $0.issues = ["Force structure"] }
            }
            $0.summaryOverrideReason = override
        }, as: Convene_Consultation_V1_Meeting.self, options: options(caller))
    }

    func stop() async {
        await client.close()
        await server.transport.close()
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: dataDirectory)
    }
}

@discardableResult
func assertRPCError<T>(_ code: StatusCode, containing text: String? = nil, file: StaticString = #filePath, line: UInt = #line,
                       _ body: () async throws -> T) async -> RPCError? {
    do {
        let value = try await body()
        XCTFail("expected \(code.name), got \(value)", file: file, line: line)
        return nil
    } catch let error as RPCError {
        XCTAssertEqual(error.code, code, "message: \(error.message)", file: file, line: line)
        if let text { XCTAssertTrue(error.message.contains(text), "'\(error.message)' lacks '\(text)'", file: file, line: line) }
        return error
    } catch {
        XCTFail("expected RPCError \(code.name), got \(error)", file: file, line: line)
        return nil
    }
}

/// A test case with a fresh server, the parties of `Fixture`, and one operation.
class OperationTestCase: XCTestCase {
    var f: Fixture!
    var operation = ""
    /// Where plugins run in this case's server (subclasses run the same tests isolated).
    class var isolation: PluginIsolation { .inProcess }

    override func setUp() async throws {
        let isolation = Self.isolation
        f = try await Fixture { $0.pluginIsolation = isolation }
        try await f.registerParties()
        operation = try await f.makeOperation()
    }

    override func tearDown() async throws {
        await f.stop()
        f.remove()
    }
}
