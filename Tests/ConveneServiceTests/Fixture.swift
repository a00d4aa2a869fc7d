import ConveneClient
import ConvenePluginHost
import ConveneProtos
import ConveneRPC
import ConveneServer
import ConveneTransport
import Foundation
import SwiftProtobuf
import XCTest
// The testing kit (TestServer, assertRPCError, eventually, InMemoryServer) for every file of this target.
@_exported import ConveneTesting

typealias CM = ConsultationMethods
typealias AM = AdministrationMethods

/// A real server on 127.0.0.1 (the testing kit's TestServer) with a fictional operation's
/// parties registered, each with its own credential.
final class Fixture: @unchecked Sendable {
    let dataDirectory: String
    var testServer: TestServer!
    var server: ConveneServer { testServer.server }
    var port: Int { testServer.port }
    var client: ConveneClient!
    var tokens: [String: String] = [:]
    /// Applied to the server's configuration at every (re)start.
    var configure: (inout ServerConfiguration) -> Void = { _ in }
    /// Whether the server loads the plugins built with it (in process, unless `configure` says
    /// otherwise). A test that calls none of them leaves them out: each load of a library with
    /// Swift code maps a fresh copy for the rest of the test process.
    let builtPlugins: Bool
    /// The server's time of day; nil for the system's.
    let clock: ManualClock?
    /// When the fixture's manual clock starts: 21 September 2026, 14:13:20 UTC.
    static let start: Int64 = 1_790_000_000_000
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

    /// Now, by the server's clock.
    var now: Int64 { clock?.nowMillis() ?? Int64(Date().timeIntervalSince1970 * 1000) }

    init(dataDirectory: String? = nil, clock: ManualClock? = ManualClock(startMillis: Fixture.start), builtPlugins: Bool = true,
         configure: @escaping (inout ServerConfiguration) -> Void = { _ in }) async throws {
        self.clock = clock
        self.builtPlugins = builtPlugins
        self.dataDirectory = dataDirectory ?? FileManager.default.temporaryDirectory
            .appendingPathComponent("convene-svc-\(UUID().uuidString)").path
        self.configure = configure
        try await startServer()
        client = testServer.client()
    }

    func startServer(port: Int = 0) async throws {
        testServer = try await TestServer.start { [dataDirectory, configure, clock, builtPlugins] configuration in
            if let clock { configuration.clock = clock }
            if !builtPlugins { configuration.pluginDirectories = [] }
            configuration.port = port
            configuration.dataDirectory = dataDirectory
            configuration.enableInterop = false
            configuration.shutdownGrace = .milliseconds(200)
            configure(&configuration)
        }
    }

    var adminToken: String {
        get throws { try testServer.adminToken }
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

    /// Moves the manual clock forward to `millis` (not back).
    func advance(to millis: Int64) {
        guard let clock, millis > clock.nowMillis() else { return }
        clock.advance(by: .milliseconds(millis - clock.nowMillis()))
    }

    /// Convenes a meeting, by default 10 days from now.
    func convene(_ operationID: String, form: Convene_Consultation_V1_MeetingForm = .consultationMeeting,
                 stage: Convene_Consultation_V1_Stage = .mandateRenewal, at time: Int64? = nil,
                 as caller: String = "President", extra: [String] = [], paper: Bool = true,
                 override: String = "", requestID: String = "", pastReason: String = "", reportID: String = "",
                 lateReason: String = "") async throws -> Convene_Consultation_V1_Meeting {
        let millis = time ?? now + 10 * 86_400_000
        return try await client.unary(CM.conveneMeeting, Convene_Consultation_V1_ConveneMeetingRequest.with {
            $0.operationID = operationID
            $0.form = form
            $0.stage = stage
            $0.requestID = requestID
            $0.scheduledTime = .init(seconds: millis / 1000, nanos: Int32(millis % 1000) * 1_000_000)
            $0.additionalInviteeIds = extra.map { ids[$0]! }
            if paper {
                $0.informalPaper = .with { $0.agenda = "1. Renewal of the mandate"; $0.issues = ["Force structure"] }
            }
            $0.summaryOverrideReason = override
            $0.pastMeetingReason = pastReason
            $0.reportID = reportID
            $0.lateReason = lateReason
        }, as: Convene_Consultation_V1_Meeting.self, options: options(caller))
    }

    func stop() async {
        await client.close()
        await server.transport.close()
        // Isolated plugins' processes end with their server, not with the test process.
        await server.plugins.shutDown(deadline: .now.advanced(by: .milliseconds(500)))
        await server.store.close()
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: dataDirectory)
    }
}

/// A test case with a fresh server, the parties of `Fixture`, and one operation.
class OperationTestCase: XCTestCase {
    var f: Fixture!
    var operation = ""
    /// The server's clock: a manual one (see Fixture), or nil for the system's.
    var clock: ManualClock? { ManualClock(startMillis: Fixture.start) }
    /// Where plugins run in this case's server (subclasses run the same tests isolated).
    class var isolation: PluginIsolation { .inProcess }
    /// Whether this case's server loads the plugins built with it (the suites of plugins say so).
    class var builtPlugins: Bool { false }

    override func setUp() async throws {
        let isolation = Self.isolation
        f = try await Fixture(clock: clock, builtPlugins: Self.builtPlugins) { $0.pluginIsolation = isolation }
        try await f.registerParties()
        operation = try await f.makeOperation()
    }

    override func tearDown() async throws {
        await f.stop()
        f.remove()
    }
}
