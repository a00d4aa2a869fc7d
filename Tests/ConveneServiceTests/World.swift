import ConveneClient
import ConveneProtos
import ConveneRPC
import ConveneTransport
import Foundation
import SwiftProtobuf
import XCTest

/// A fixture's operation with the records every kind of caller is tested against: a II.B
/// meeting to come (`meeting`, with the host country and a regional organization invited as
/// observers) holding a statement, a fact sheet, a briefing and an attachment; a past meeting
/// with a circulated summary (`summarized`); a report, advice, a request, an experience and a
/// lesson. Each `fresh…` helper makes a new record for a call that changes one.
final class World: @unchecked Sendable {
    let f: Fixture
    var operation = ""
    var meeting = Convene_Consultation_V1_Meeting()
    var summarized = ""
    var attachment = ""
    var report = ""
    var lesson = ""
    var serial = 0

    init(_ f: Fixture) { self.f = f }

    var client: ConveneClient { f.client }
    func options(_ party: String) -> CallOptions { f.options(party) }
    func id(_ party: String) -> String { f.ids[party]! }
    func next() -> Int { serial += 1; return serial }
    var day: Int64 { 86_400_000 }

    func build() async throws {
        try await f.registerParties()
        operation = try await f.makeOperation()
        meeting = try await f.convene(operation, extra: ["Host", "Regional"])
        _ = try await client.consultation.recordStatement(.with {
            $0.meetingID = meeting.id; $0.text = "Our contingent lacks night-vision equipment."; $0.concern = true
        }, options: options("Troops"))
        _ = try await client.briefing.issueFactSheet(.with {
            $0.meetingID = meeting.id; $0.title = "At a glance"; $0.content = "Strength: 970"
        }, options: options("Secretariat"))
        attachment = try await upload(to: meeting.id, as: "Secretariat").id
        _ = try await client.briefing.giveBriefing(.with {
            $0.meetingID = meeting.id; $0.brieferName = "Force Commander"; $0.brieferRole = .seniorFieldMission
            $0.assessment = .with { $0.military = "Armed groups regrouping" }; $0.attachmentIds = [attachment]
        }, options: options("Secretariat"))
        summarized = try await circulatedSummary()
        let published = try await publishReport()
        report = try await client.briefing.distributeReport(.with {
            $0.reportID = published; $0.meetingID = meeting.id
        }, options: options("Secretariat")).id
        _ = try await client.briefing.submitAdvice(.with {
            $0.operationID = operation; $0.question = "How to respond?"
            $0.options = [.with { $0.title = "Reinforce"; $0.objectiveAnalysis = "Two battalions" },
                          .with { $0.title = "Concentrate"; $0.objectiveAnalysis = "Three bases" }]
        }, options: options("Secretariat"))
        _ = try await request()
        // Its contingents deploy, and so have experience to report (I.B.4).
        _ = try await client.consultation.updateMandate(.with { $0.operationID = operation; $0.phase = .deployed },
                                                        options: options("President"))
        let experience = try await submitExperience(as: "Troops")
        lesson = try await client.lessons.recordLesson(.with {
            $0.operationID = operation; $0.stage = .deployment; $0.finding = "Fuel shortages delayed patrols"
            $0.recommendation = "Pre-position fuel"; $0.sourceID = experience
        }, options: options("Secretariat")).id
    }

    /// A consultation meeting that took place yesterday, recorded after the fact.
    func pastMeeting() async throws -> String {
        try await f.convene(operation, at: f.now - day + Int64(next()) * 60_000, extra: ["Host", "Regional"],
                            pastReason: "Held before it was recorded here").id
    }

    func heldMeeting() async throws -> String {
        let id = try await pastMeeting()
        _ = try await client.consultation.markMeetingHeld(.with { $0.meetingID = id }, options: options("President"))
        return id
    }

    func preparedSummary() async throws -> String {
        let id = try await heldMeeting()
        _ = try await client.consultation.prepareSummary(.with { $0.meetingID = id; $0.text = "Views of the contributors" },
                                                         options: options("Secretariat"))
        return id
    }

    func circulatedSummary() async throws -> String {
        let id = try await preparedSummary()
        _ = try await client.consultation.circulateSummary(.with { $0.meetingID = id }, options: options("President"))
        return id
    }

    func concern() async throws -> String {
        try await client.consultation.recordStatement(.with {
            $0.meetingID = meeting.id; $0.text = "Medical evacuation takes too long"; $0.concern = true
        }, options: options("Troops")).id
    }

    func request() async throws -> String {
        try await client.consultation.requestMeeting(.with {
            $0.operationID = operation; $0.form = .consultationMeeting; $0.reason = "Attacks on our patrols"
            $0.concerns = ["Force protection"]
        }, options: options("Troops")).id
    }

    func publishReport(requested: Bool = false) async throws -> String {
        try await client.briefing.publishReport(.with {
            $0.operationID = operation; $0.symbol = "S/2026/\(next())"; $0.title = "Report on UNMIX"; $0.requestedByCouncil = requested
        }, options: options("Secretariat")).id
    }

    func credential(for party: String) async throws -> Convene_Admin_V1_IssueCredentialResponse {
        try await client.administration.issueCredential(.with { $0.partyID = id(party) }, options: .bearer(try f.adminToken))
    }

    func upload(to meetingID: String, as party: String, options: CallOptions? = nil) async throws -> Convene_Briefing_V1_Attachment {
        let call = try await client.briefing.uploadAttachment(options: options ?? self.options(party))
        do {
            try await call.send(.with {
                $0.header = .with { $0.meetingID = meetingID; $0.fileName = "map.png" }
                $0.data = Data(repeating: 7, count: 1000)
            })
            try await call.finish()
        } catch {
            // The server may end the call while we send; its status comes with the response.
        }
        return try await call.response()
    }

    /// What `party` receives from WatchOperation on the operation: every event committed so far,
    /// up to a sentinel recorded after the watch opened (or the refusal), as text.
    func watchedUntilSentinel(as party: String) async throws -> [String] {
        let c = client.consultation
        var seen: [String] = []
        do {
            let watch = try await c.watchOperation(.with { $0.operationID = operation }, options: options(party))
            let sentinel = try await setup {
                try await c.recordContribution(.with {
                    $0.operationID = self.operation; $0.partyID = self.id("Donor"); $0.kind = .equipment; $0.quantity = 1
                }, options: self.options("Secretariat")).id
            }
            for try await event in watch.responses {
                seen.append(event.textFormatString())
                if event.subjectID == sentinel { break }
            }
            watch.cancel()
        } catch let failure as SetupFailure {
            throw failure
        } catch {
            seen.append("\(RPCError.from(error).code.name): \(RPCError.from(error).message)")
        }
        return seen
    }

    func submitExperience(as party: String, options: CallOptions? = nil) async throws -> String {
        let call = try await client.lessons.submitExperience(options: options ?? self.options(party))
        do {
            try await call.send(.with {
                $0.header = .with { $0.operationID = operation; $0.period = .duringDeployment; $0.title = "After-action report" }
                $0.text = "Patrols delayed by fuel shortages."
            })
            try await call.finish()
        } catch {}
        return try await call.response().id
    }
}

/// Reads a server stream's first message (or its clean end), then cancels it; throws its refusal.
func firstMessage<Request, Response>(_ call: TypedCall<Request, Response>) async throws {
    defer { call.cancel() }
    for try await _ in call.responses { return }
}
