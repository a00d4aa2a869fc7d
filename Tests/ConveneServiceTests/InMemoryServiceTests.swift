import ConveneClient
import ConveneProtos
import ConveneRPC
import ConveneServer
import ConveneTransport
import Foundation
import XCTest

/// The services through the testing kit's in-memory client (no socket, no frame), with the
/// generated stubs, and the time rules with a manual clock.
final class InMemoryServiceTests: XCTestCase {
    var memory: InMemoryServer!
    var tokens: [String: String] = [:]
    var ids: [String: String] = [:]
    var client: InMemoryClient { memory.client }

    override func setUp() async throws {
        memory = try await InMemoryServer.start()
    }

    override func tearDown() async throws {
        await memory.stop()
    }

    func register(_ name: String, _ kind: Convene_Parties_V1_PartyKind, _ roles: [Convene_Parties_V1_Role]) async throws {
        let admin = CallOptions.bearer(try memory.adminToken)
        let party = try await client.administration.registerParty(.with {
            $0.name = name; $0.kind = kind; $0.roles = roles
        }, options: admin)
        ids[name] = party.id
        tokens[name] = try await client.administration.issueCredential(.with { $0.partyID = party.id }, options: admin).token
    }

    func options(_ name: String) -> CallOptions { .bearer(tokens[name]!) }

    /// An operation with a troop contributor, registered by the Secretariat.
    func operation() async throws -> String {
        for (name, kind, roles) in [("President", Convene_Parties_V1_PartyKind.memberState, [Convene_Parties_V1_Role.councilPresident]),
                                    ("Secretariat", .secretariat, [.secretariatStaff]), ("Troops", .memberState, [])] {
            try await register(name, kind, roles)
        }
        let operation = try await client.consultation.createOperation(.with {
            $0.name = "UNMIX"; $0.mandate = "Monitor the ceasefire"; $0.phase = .planning
        }, options: options("Secretariat"))
        _ = try await client.consultation.recordContribution(.with {
            $0.operationID = operation.id; $0.partyID = ids["Troops"]!; $0.kind = .troops; $0.quantity = 850
        }, options: options("Secretariat"))
        return operation.id
    }

    func convene(_ operationID: String, at millis: Int64) async throws -> Convene_Consultation_V1_Meeting {
        try await client.consultation.conveneMeeting(.with {
            $0.operationID = operationID; $0.form = .consultationMeeting; $0.stage = .mandateRenewal
            $0.scheduledTime = .init(seconds: millis / 1000)
            $0.informalPaper = .with { $0.agenda = "1. Renewal of the mandate"; $0.issues = ["Force structure"] }
        }, options: options("President"))
    }

    func testUnaryCallsKeepTheirRulesAndStatuses() async throws {
        await assertRPCError(.unauthenticated, containing: "authorization") {
            try await self.client.consultation.listOperations(.init())
        }
        let operationID = try await operation()
        let meeting = try await convene(operationID, at: 1_900_000_000_000)
        XCTAssertEqual(meeting.invitations.first { $0.partyID == ids["Troops"] }?.category, .troopPoliceContributor)
        await assertRPCError(.permissionDenied, containing: "II.B.1") {
            try await self.client.consultation.conveneMeeting(.with {
                $0.operationID = operationID; $0.form = .consultationMeeting; $0.stage = .mandateRenewal
                $0.scheduledTime = .init(seconds: 1_900_000_000)
            }, options: self.options("Troops"))
        }
        let seen = try await client.consultation.getMeeting(.with { $0.meetingID = meeting.id }, options: options("Troops"))
        XCTAssertEqual(seen.id, meeting.id)
    }

    func testStreamsBothWays() async throws {
        let operationID = try await operation()
        let watch = try await client.consultation.watchOperation(.with { $0.operationID = operationID }, options: options("Troops"))
        var events = watch.responses.makeAsyncIterator()
        let created = try await events.next()
        XCTAssertEqual(created?.kind, "operation.created", "the backlog first")

        let meeting = try await convene(operationID, at: 1_900_000_000_000)
        let upload = try await client.briefing.uploadAttachment(options: options("Secretariat"))
        try await upload.send(.with { $0.header = .with { $0.meetingID = meeting.id; $0.fileName = "annex.pdf" } })
        try await upload.send(.with { $0.data = Data(repeating: 0x25, count: 100_000) })
        try await upload.finish()
        let attachment = try await upload.response()
        XCTAssertEqual(attachment.size, 100_000)

        var kinds: [String] = []
        while kinds.last != "attachment.uploaded", let event = try await events.next() { kinds.append(event.kind) }
        XCTAssertEqual(kinds, ["contribution.recorded", "meeting.convened", "attachment.uploaded"], "live events, in order")
        watch.cancel()
        let end = await watch.end
        XCTAssertEqual(end.code, .cancelled)

        let download = try await client.briefing.downloadAttachment(.with { $0.attachmentID = attachment.id },
                                                                     options: options("Troops"))
        var size = 0
        for try await chunk in download.responses { size += chunk.data.count }
        XCTAssertEqual(size, 100_000)
    }

    func testDeadlinesAndUnknownMethodsEndCallsAsTheTransportDoes() async throws {
        let error = await assertRPCError(.deadlineExceeded) {
            try await self.client.testService.sleep(.with { $0.milliseconds = 60_000 }, options: CallOptions(timeout: .milliseconds(50)))
        }
        XCTAssertEqual(error?.message, "deadline exceeded (timeout was 50 ms)")
        let unimplemented = await assertRPCError(.unimplemented) { try await self.client.testService.unimplementedCall(.init()) }
        XCTAssertEqual(unimplemented?.message, "unknown method UnimplementedCall of service convene.testing.v1.TestService")
        await assertRPCError(.unimplemented, containing: "unknown service convene.testing.v1.UnimplementedService") {
            try await self.client.unimplementedService.unimplementedCall(.init())
        }
        // Metadata reaches the handler and comes back as the interop service echoes it.
        var metadata = Metadata()
        metadata.add("x-convene-test-echo-initial", "hello")
        let echoed = try await client.unaryWithMetadata(TestServiceMethods.unaryCall, Convene_Testing_V1_SimpleRequest(),
                                                        as: Convene_Testing_V1_SimpleResponse.self,
                                                        options: CallOptions(metadata: metadata))
        XCTAssertEqual(echoed.headers["x-convene-test-echo-initial"], "hello")
    }

    /// II.B.5(b) with a manual clock: the same meeting, 50 h ahead and then 47 h ahead.
    func testTheReportLeadTimeIsJudgedByTheServersClock() async throws {
        await memory.stop()
        let clock = ManualClock()
        memory = try await InMemoryServer.start { $0.clock = clock }
        let operationID = try await operation()
        let meeting = try await convene(operationID, at: clock.nowMillis() + 50 * 3_600_000)
        var published = 0
        func publish() async throws -> String {
            published += 1
            return try await client.briefing.publishReport(.with {
                $0.operationID = operationID; $0.symbol = "S/2027/\(published)"; $0.title = "Report on UNMIX"; $0.requestedByCouncil = true
            }, options: options("Secretariat")).id
        }
        let first = try await publish()
        let distributed = try await client.briefing.distributeReport(.with {
            $0.reportID = first; $0.meetingID = meeting.id
        }, options: options("Secretariat"))
        XCTAssertEqual(distributed.flags, [])
        XCTAssertEqual(distributed.distributeTime.seconds, clock.nowMillis() / 1000)

        clock.advance(by: .seconds(3 * 3600))
        let second = try await publish()
        await assertRPCError(.failedPrecondition, containing: "distributed 47.0 h before the contributors' meeting; the rule is 48 h") {
            try await self.client.briefing.distributeReport(.with { $0.reportID = second; $0.meetingID = meeting.id },
                                                            options: self.options("Secretariat"))
        }
    }
}
