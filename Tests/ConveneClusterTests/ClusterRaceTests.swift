import ConveneClient
import ConveneProtos
import ConveneRPC
import ConveneTesting
import Foundation
import SwiftProtobuf
import XCTest

/// The writes the rules forbid, raced from every server of a cluster at once: exactly the
/// allowed ones win, and the losers are told why.
final class ClusterRaceTests: XCTestCase {
    /// Each attempt through the next server, all at once: the status each got (OK or the error's).
    func race(_ cluster: Cluster, attempts: Int,
              _ body: @escaping @Sendable (Int, ConveneClient) async throws -> Void) async throws -> [StatusCode] {
        try await withThrowingTaskGroup(of: StatusCode.self) { group in
            for attempt in 0..<attempts {
                let client = cluster.clients[attempt % cluster.clients.count]
                group.addTask {
                    do {
                        try await body(attempt, client)
                        return .ok
                    } catch let error as RPCError {
                        return error.code
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
    }

    /// II.B.1: one President. Registering new Presidents through every server at once: while one
    /// holds the presidency every other is refused; passing the presidency to three members at once
    /// leaves one President and one open term.
    func testOnePresidentWhateverServersRace() async throws {
        let cluster = try await Cluster.start()
        addTeardownBlock { await cluster.shutDown() }
        let registered = try await race(cluster, attempts: 6) { attempt, client in
            _ = try await client.administration.registerParty(.with {
                $0.name = "Claimant \(attempt)"; $0.kind = .memberState; $0.roles = [.councilPresident]
            }, options: cluster.admin)
        }
        XCTAssertEqual(registered.filter { $0 == .ok }.count, 0, "the President holds the presidency: every claimant is refused")
        XCTAssertEqual(registered.filter { $0 == .failedPrecondition }.count, 6)

        let members = ["Member", "Second member", "Third member"]
        let passed = try await race(cluster, attempts: members.count) { attempt, client in
            _ = try await client.administration.passPresidency(.with { $0.partyID = cluster.id(members[attempt]) },
                                                              options: cluster.admin)
        }
        XCTAssertEqual(passed, [.ok, .ok, .ok], "each handover is allowed, one after another")
        let parties = try await cluster.clients[1].administration.listParties(.with { $0.pageSize = 100 }, options: cluster.admin)
        let presidents = parties.parties.filter { $0.roles.contains(.councilPresident) }
        XCTAssertEqual(presidents.count, 1, "one President: \(presidents.map(\.name))")
        let terms = try await cluster.clients[2].administration.listPresidencies(.init(), options: cluster.admin).terms
        XCTAssertEqual(terms.filter { !$0.hasEndTime }.map(\.partyID), presidents.map(\.id), "one open term, the President's")
        XCTAssertEqual(terms.count, 1 + members.count, "the first term and one per handover")
    }

    /// A name is one party's: the same party registered through every server at once is stored once.
    func testOneNameOneParty() async throws {
        let cluster = try await Cluster.start()
        addTeardownBlock { await cluster.shutDown() }
        let codes = try await race(cluster, attempts: 6) { _, client in
            _ = try await client.administration.registerParty(.with { $0.name = "Aurelia"; $0.kind = .memberState },
                                                              options: cluster.admin)
        }
        XCTAssertEqual(codes.filter { $0 == .ok }.count, 1)
        XCTAssertEqual(codes.filter { $0 == .alreadyExists }.count, 5)
    }

    /// II.B.6: a summary is circulated once. The President circulating it through every server at
    /// once: one succeeds, the others are told it was already circulated, and one event says so.
    func testASummaryIsCirculatedOnce() async throws {
        let cluster = try await Cluster.start()
        addTeardownBlock { await cluster.shutDown() }
        let operationID = try await cluster.makeOperation()
        let past = Date().addingTimeInterval(-86_400).timeIntervalSince1970
        let meeting = try await cluster.clients[0].consultation.conveneMeeting(.with {
            $0.operationID = operationID
            $0.form = .consultationMeeting
            $0.stage = .mandateRenewal
            $0.scheduledTime = Google_Protobuf_Timestamp(timeIntervalSince1970: past)
            $0.pastMeetingReason = "held before the system was in use"
            $0.informalPaper = .with { $0.agenda = "1. Renewal of the mandate"; $0.issues = ["Force structure"] }
        }, options: cluster.options("President"))
        _ = try await cluster.clients[1].consultation.markMeetingHeld(.with { $0.meetingID = meeting.id }, options: cluster.options("President"))
        _ = try await cluster.clients[2].consultation.prepareSummary(.with { $0.meetingID = meeting.id; $0.text = "What was said" },
                                                                     options: cluster.options("Secretariat"))
        let codes = try await race(cluster, attempts: 6) { _, client in
            _ = try await client.consultation.circulateSummary(.with { $0.meetingID = meeting.id }, options: cluster.options("President"))
        }
        XCTAssertEqual(codes.filter { $0 == .ok }.count, 1, "\(codes)")
        XCTAssertEqual(codes.filter { $0 == .failedPrecondition }.count, 5, "\(codes)")
        let watcher = try await Watcher(cluster.clients[1], operationID: operationID, token: cluster.token("Secretariat"))
        // The circulation comes after the preparation in the stream: wait for it, not the first.
        let settled = await watcher.wait { $0.contains { $0.kind == "summary.circulated" } }
        XCTAssertTrue(settled)
        XCTAssertEqual(watcher.events.filter { $0.kind == "summary.circulated" }.count, 1, "one circulation recorded")
        watcher.cancel()
    }

    /// II.A.1, II.B.2: a contributor's request is answered by one meeting. Convening it through
    /// every server at once makes one meeting, with one set of invitations; the others are refused.
    func testARequestIsAnsweredByOneMeeting() async throws {
        let cluster = try await Cluster.start()
        addTeardownBlock { await cluster.shutDown() }
        let operationID = try await cluster.makeOperation()
        let request = try await cluster.clients[0].consultation.requestMeeting(.with {
            $0.operationID = operationID; $0.form = .consultationMeeting; $0.reason = "The situation on the ground"
        }, options: cluster.options("Troops"))
        let when = Date().addingTimeInterval(10 * 86_400).timeIntervalSince1970
        let codes = try await race(cluster, attempts: 6) { _, client in
            _ = try await client.consultation.conveneMeeting(.with {
                $0.operationID = operationID
                $0.form = .consultationMeeting
                $0.requestID = request.id
                $0.scheduledTime = Google_Protobuf_Timestamp(timeIntervalSince1970: when)
                $0.informalPaper = .with { $0.agenda = "1. The request"; $0.issues = ["The request"] }
            }, options: cluster.options("President"))
        }
        XCTAssertEqual(codes.filter { $0 == .ok }.count, 1, "\(codes)")
        XCTAssertEqual(codes.filter { $0 == .failedPrecondition }.count, 5, "\(codes)")
        let meetings = try await cluster.clients[2].consultation.listMeetings(.with { $0.operationID = operationID },
                                                                              options: cluster.options("Secretariat")).meetings
        XCTAssertEqual(meetings.count, 1, "one meeting answers the request")
        let invited = meetings.first?.invitations.map(\.partyID) ?? []
        XCTAssertEqual(Set(invited).count, invited.count, "each party invited once")
        XCTAssertTrue(invited.contains(cluster.id("Troops")))
    }
}
