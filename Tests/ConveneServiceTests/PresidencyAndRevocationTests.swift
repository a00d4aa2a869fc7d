import ConveneClient
import ConveneDomain
import ConveneProtos
import ConveneRPC
import ConveneStore
import ConveneTransport
import Foundation
import XCTest

/// One Council President on every path (II.B.1); II.B.4(d) concerns as topics; streams that
/// end at their credential's revocation.
final class PresidencyAndRevocationTests: OperationTestCase {
    var admin: CallOptions { get throws { .bearer(try f.adminToken) } }

    func testOnePresidentOnEveryPathAndTheHandoverIsRecordedWithItsDate() async throws {
        let a = f.client.administration
        await assertRPCError(.failedPrecondition, containing: "one President at a time (II.B.1)") {
            try await a.registerParty(.with { $0.name = "Usurper"; $0.kind = .memberState; $0.roles = [.councilPresident] },
                                      options: try self.admin)
        }
        f.clock!.advance(by: .seconds(3600))
        // A Member State not on the Council does not take the presidency (it would keep a seat
        // on the Council once the presidency moved on); nor does it take one on the way.
        await assertRPCError(.failedPrecondition, containing: "does not sit on the Council (give it COUNCIL_MEMBER first)") {
            try await a.passPresidency(.with { $0.partyID = self.f.ids["Troops"]! }, options: try self.admin)
        }
        let troops = try await a.listParties(.init(), options: try admin).parties.first { $0.name == "Troops" }
        XCTAssertEqual(troops?.roles, [], "a refused handover changes no roles")
        let term = try await a.passPresidency(.with { $0.partyID = f.ids["Member"]! }, options: try admin)
        XCTAssertEqual(term.partyID, f.ids["Member"])
        XCTAssertEqual(term.startTime.seconds, f.now / 1000)
        let parties = Dictionary(uniqueKeysWithValues: try await a.listParties(.init(), options: try admin).parties.map { ($0.name, $0.roles) })
        XCTAssertEqual(parties["Member"], [.councilPresident])
        XCTAssertEqual(parties["President"], [.councilMember], "the former President stays on the Council")
        // The new President convenes; the former one no longer does.
        _ = try await f.convene(operation, as: "Member")
        await assertRPCError(.permissionDenied, containing: "II.B.1") { try await self.f.convene(self.operation, as: "President") }
        // Taking the role away ends the term; the presidency is then vacant and may be given.
        _ = try await a.setRoles(.with { $0.partyID = f.ids["Member"]!; $0.roles = [.councilMember] }, options: try admin)
        _ = try await a.setRoles(.with { $0.partyID = f.ids["President"]!; $0.roles = [.councilPresident] }, options: try admin)
        let terms = try await a.listPresidencies(.init(), options: try admin).terms
        XCTAssertEqual(terms.map(\.partyID), [f.ids["President"]!, f.ids["Member"]!, f.ids["President"]!],
                       "registered President, handover, vacancy and return")
        XCTAssertEqual(terms.map(\.hasEndTime), [true, true, false])
        XCTAssertEqual(terms[0].endTime, terms[1].startTime, "the handover ends one term where the next begins")
        // The store refuses a second President whatever writes it.
        do {
            _ = try await f.server.store.write { db in
                try db.insert(PartyRecord(name: "Backdoor", kind: .memberState, roles: [.councilPresident]))
            }
            XCTFail("the store took a second President")
        } catch StoreError.ruleViolated {}
    }

    /// II.B.4(d): the concerns a contributor raises in its request are topics of the meeting convened
    /// at it, linked to the request; the account lists the request with its meeting.
    func testTheConcernsOfARequestBecomeTopicsOfItsMeeting() async throws {
        let request = try await f.client.consultation.requestMeeting(.with {
            $0.operationID = operation; $0.form = .consultationMeeting; $0.reason = "Attacks on our patrols"
            $0.concerns = ["Force protection", "  Medical evacuation ", "force   protection", ""].filter { !$0.isEmpty }
        }, options: f.options("Troops"))
        let meeting = try await f.convene(operation, stage: .unspecified, requestID: request.id)
        let linked = meeting.topics.filter { $0.requestID == request.id }
        XCTAssertEqual(linked.map(\.description_p), ["Force protection", "Medical evacuation"], "each concern once")
        XCTAssertTrue(linked.allSatisfy { $0.kind == .contributorConcerns && $0.raisedByPartyID == f.ids["Troops"] })
        let account = try await f.client.consultation.getConsultationAccount(.with { $0.operationID = operation },
                                                                              options: f.options("Secretariat"))
        XCTAssertEqual(account.requests.map(\.meetingID), [meeting.id])
        XCTAssertEqual(account.meetings.first?.meeting.topics.filter { $0.requestID == request.id }.count, 2)
    }

    /// A download opened with a credential ends with UNAUTHENTICATED as soon as the credential is
    /// revoked, not when the file is done.
    func testALongDownloadEndsAtTheRevocationOfItsCredential() async throws {
        let meeting = try await f.convene(operation)
        let upload = try await f.client.briefing.uploadAttachment(options: f.options("Secretariat"))
        try await upload.send(.with { $0.header = .with { $0.meetingID = meeting.id; $0.fileName = "maps.zip" } })
        for _ in 0..<8 { try await upload.send(.with { $0.data = Data(repeating: 0x41, count: 1_048_576) }) }
        try await upload.finish()
        let attachment = try await upload.response()

        let credential = try await f.client.administration.issueCredential(.with { $0.partyID = f.ids["Troops"]! }, options: try admin)
        let download = try await f.client.briefing.downloadAttachment(.with { $0.attachmentID = attachment.id },
                                                                      options: .bearer(credential.token))
        var chunks = download.responses.makeAsyncIterator()
        var received = try await chunks.next()?.data.count ?? 0
        _ = try await f.client.administration.revokeCredential(.with { $0.credentialID = credential.credentialID }, options: try admin)
        let error = await assertRPCError(.unauthenticated, containing: "was revoked; the stream ends") {
            while let chunk = try await chunks.next() { received += chunk.data.count }
        }
        XCTAssertNotNil(error)
        XCTAssertLessThan(received, 8 * 1_048_576, "the download did not run to its end")
    }
}
