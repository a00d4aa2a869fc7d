import ConveneClient
import ConveneProtos
import ConveneRPC
import ConveneTransport
import Foundation
import XCTest

/// A call for each refusal of Docs/SERVICES.md, by its id, each made so that the rule of its
/// row is the one that refuses it.
final class Provocations: @unchecked Sendable {
    typealias Provoke = () async throws -> Void
    let w: World
    /// Another operation (deployed), a terminated one, a II.C meeting to come, and one held.
    var other = "", terminated = "", secretariatMeeting = "", heldSecretariatMeeting = ""

    init(world: World) { w = world }

    var c: ConsultationClient { w.client.consultation }
    var b: BriefingClient { w.client.briefing }
    var l: LessonsClient { w.client.lessons }
    var a: AdministrationClient { w.client.administration }
    func o(_ party: String) -> CallOptions { w.options(party) }
    var admin: CallOptions { get throws { .bearer(try w.f.adminToken) } }
    var hours: Int64 { 3_600_000 }

    func prepare() async throws {
        other = try await c.createOperation(.with { $0.name = "UNMOTHER"; $0.phase = .deployed }, options: o("Secretariat")).id
        terminated = try await c.createOperation(.with { $0.name = "UNMENDED"; $0.phase = .terminated }, options: o("Secretariat")).id
        secretariatMeeting = try await w.f.convene(w.operation, form: .secretariatMeeting, stage: .unspecified, as: "Secretariat",
                                                   paper: false).id
        heldSecretariatMeeting = try await w.f.convene(w.operation, form: .secretariatMeeting, stage: .unspecified,
                                                       at: w.f.now - hours, as: "Secretariat", paper: false, pastReason: "Minutes").id
        _ = try await c.markMeetingHeld(.with { $0.meetingID = heldSecretariatMeeting }, options: o("Secretariat"))
    }

    /// A II.B meeting request on `operation`, in `hours` hours.
    func meeting(_ body: (inout Convene_Consultation_V1_ConveneMeetingRequest) -> Void = { _ in }) -> Convene_Consultation_V1_ConveneMeetingRequest {
        var request = Convene_Consultation_V1_ConveneMeetingRequest.with {
            $0.operationID = w.operation; $0.form = .consultationMeeting; $0.stage = .significantDevelopments
            $0.scheduledTime = .init(seconds: (w.f.now + 30 * w.day) / 1000 + Int64(w.next()))
            $0.informalPaper = .with { $0.agenda = "Developments"; $0.issues = ["The situation"] }
        }
        body(&request)
        return request
    }

    func at(_ millis: Int64) -> Google_Protobuf_Timestamp { .init(seconds: millis / 1000, nanos: Int32(millis % 1000) * 1_000_000) }

    var all: [String: Provoke] { credentialsAndAdministration.merging(operationsAndMeetings) { x, _ in x }.merging(rest) { x, _ in x } }

    var credentialsAndAdministration: [String: Provoke] {
        [
            "C1": { _ = try await self.c.listOperations(.init()) },
            "C2": {
                let credential = try await setup { try await self.w.credential(for: "Troops") }
                try await setup { _ = try await self.a.revokeCredential(.with { $0.credentialID = credential.credentialID }, options: try self.admin) }
                _ = try await self.c.listOperations(.init(), options: .bearer(credential.token))
            },
            "C3": {
                let credential = try await setup { try await self.w.credential(for: "Troops") }
                let watch = try await self.c.watchOperation(.with { $0.operationID = self.w.operation }, options: .bearer(credential.token))
                var events = watch.responses.makeAsyncIterator()
                _ = try await events.next()
                try await setup { _ = try await self.a.revokeCredential(.with { $0.credentialID = credential.credentialID }, options: try self.admin) }
                for _ in 0..<100_000 { guard try await events.next() != nil else { return } }
            },
            "A1": { _ = try await self.a.registerParty(.with { $0.name = "Rogue"; $0.kind = .memberState }, options: self.o("President")) },
            "A2": { _ = try await self.c.getOperation(.with { $0.operationID = self.w.operation }, options: try self.admin) },
            "A3": {
                _ = try await self.a.registerParty(.with { $0.name = "Usurper"; $0.kind = .memberState; $0.roles = [.councilPresident] },
                                                   options: try self.admin)
            },
            "A4": { _ = try await self.a.setRoles(.with { $0.partyID = self.w.id("Member"); $0.roles = [.councilPresident] }, options: try self.admin) },
            "A5": {
                _ = try await self.a.registerParty(.with { $0.name = "Operator"; $0.kind = .otherBody; $0.roles = [.administrator, .councilMember] },
                                                   options: try self.admin)
            },
            "A6": {
                _ = try await self.a.registerParty(.with { $0.name = "Agency member"; $0.kind = .unAgency; $0.roles = [.councilMember] },
                                                   options: try self.admin)
            },
            "A7": { _ = try await self.a.passPresidency(.with { $0.partyID = self.w.id("Agency") }, options: try self.admin) },
            "A8": { _ = try await self.a.registerParty(.with { $0.name = "Troops"; $0.kind = .memberState }, options: try self.admin) },
        ]
    }

    var operationsAndMeetings: [String: Provoke] {
        let op = w.operation
        return [
            "O1": { _ = try await self.c.createOperation(.with { $0.name = "UNX" }, options: self.o("President")) },
            "O2": { _ = try await self.c.createOperation(.with { $0.name = "UNY"; $0.hostCountryID = self.w.id("Agency") }, options: self.o("Secretariat")) },
            "O3": { _ = try await self.c.updateMandate(.with { $0.operationID = op; $0.mandate = "New" }, options: self.o("Secretariat")) },
            "O4": { _ = try await self.c.updateMandate(.with { $0.operationID = self.other; $0.phase = .planning }, options: self.o("President")) },
            "O5": { _ = try await self.c.updateMandate(.with { $0.operationID = op }, options: self.o("President")) },
            "O6": { _ = try await self.c.updateMandate(.with { $0.operationID = op; $0.mandate = "Monitor the ceasefire" }, options: self.o("President")) },
            "O7": {
                _ = try await self.c.recordContribution(.with { $0.operationID = op; $0.partyID = self.w.id("Donor"); $0.kind = .logistics; $0.quantity = 1 },
                                                        options: self.o("President"))
            },
            "O8": {
                _ = try await self.c.recordContribution(.with { $0.operationID = op; $0.partyID = self.w.id("Agency"); $0.kind = .troops; $0.quantity = 1 },
                                                        options: self.o("Secretariat"))
            },
            "O9": {
                _ = try await self.c.identifyPotentialContributor(.with { $0.operationID = op; $0.partyID = self.w.id("Potential") },
                                                                  options: self.o("President"))
            },
            "O10": { _ = try await self.c.listContributions(.with { $0.operationID = op }, options: self.o("Bystander")) },
            "O11": { _ = try await self.c.createOperation(.with { $0.name = "UNMIX" }, options: self.o("Secretariat")) },
            "O12": { _ = try await self.c.getOperation(.with { $0.operationID = "seven" }, options: self.o("Troops")) },
            "O13": { _ = try await self.c.getOperation(.with { $0.operationID = "op-99" }, options: self.o("Troops")) },
            "O15": {
                _ = try await self.c.identifyPotentialContributor(.with { $0.operationID = self.w.operation; $0.partyID = self.w.id("Host") },
                                                                  options: self.o("Secretariat"))
            },
            "O16": {
                _ = try await self.c.identifyPotentialContributor(.with { $0.operationID = self.w.operation; $0.partyID = self.w.id("Potential") },
                                                                  options: self.o("Secretariat"))
            },
            "O14": {
                _ = try await self.c.recordContribution(.with {
                    $0.operationID = self.terminated; $0.partyID = self.w.id("Troops"); $0.kind = .troops; $0.quantity = 1
                }, options: self.o("Secretariat"))
            },
            "M1": { _ = try await self.c.conveneMeeting(self.meeting(), options: self.o("Member")) },
            "M2": { _ = try await self.c.conveneMeeting(self.meeting { $0.form = .secretariatMeeting; $0.stage = .unspecified }, options: self.o("President")) },
            "M3": {
                _ = try await self.l.conveneEvaluationMeeting(.with {
                    $0.operationID = op; $0.stage = "x"; $0.scheduledTime = self.at(self.w.f.now + self.w.day)
                }, options: self.o("President"))
            },
            "M4": { _ = try await self.c.conveneMeeting(self.meeting { $0.form = .otherConsultation }, options: self.o("Troops")) },
            "M5": { _ = try await self.c.conveneMeeting(self.meeting { $0.stage = .unspecified }, options: self.o("President")) },
            "M6": { _ = try await self.c.conveneMeeting(self.meeting { $0.clearInformalPaper() }, options: self.o("President")) },
            "M7": { _ = try await self.c.conveneMeeting(self.meeting { $0.missionOfficials = [.forceCommander] }, options: self.o("President")) },
            "M8": {
                _ = try await self.c.conveneMeeting(self.meeting {
                    $0.form = .councilMeeting; $0.stage = .unspecified; $0.scheduledTime = self.at(self.w.f.now + 11 * self.w.day)
                }, options: self.o("President"))
            },
            "M9": { _ = try await self.c.conveneMeeting(self.meeting { $0.summaryOverrideReason = "   " }, options: self.o("President")) },
            "M10": { _ = try await self.c.conveneMeeting(self.meeting { $0.scheduledTime = self.at(self.w.f.now - self.hours) }, options: self.o("President")) },
            "M11": { _ = try await self.c.conveneMeeting(self.meeting { $0.pastMeetingReason = "Minutes" }, options: self.o("President")) },
            "M12": {
                let report = try await setup { try await self.w.publishReport(requested: true) }
                try await setup {
                    _ = try await self.c.conveneMeeting(self.meeting {
                        $0.form = .councilConsultations; $0.stage = .unspecified; $0.reportID = report
                        $0.scheduledTime = self.at(self.w.f.now + 2 * self.w.day); $0.summaryOverrideReason = "Programme of work"
                    }, options: self.o("President"))
                }
                _ = try await self.c.conveneMeeting(self.meeting { $0.reportID = report; $0.scheduledTime = self.at(self.w.f.now + 3 * self.w.day) },
                                                    options: self.o("President"))
            },
            "M13": { _ = try await self.c.markMeetingHeld(.with { $0.meetingID = self.w.meeting.id }, options: self.o("President")) },
            "M14": {
                let held = try await setup { try await self.w.heldMeeting() }
                _ = try await self.c.markMeetingHeld(.with { $0.meetingID = held }, options: self.o("President"))
            },
            "M15": { _ = try await self.c.markMeetingHeld(.with { $0.meetingID = self.w.meeting.id }, options: self.o("Secretariat")) },
            "M16": { _ = try await self.c.conveneMeeting(self.meeting { $0.additionalInviteeIds = [self.w.id("Bystander")] }, options: self.o("President")) },
            "M35": {
                _ = try await self.c.recordStatement(.with { $0.meetingID = self.w.meeting.id; $0.text = "We worry"; $0.concern = true },
                                                     options: self.o("Member"))
            },
            "M17": { _ = try await self.c.recordStatement(.with { $0.meetingID = self.w.meeting.id; $0.text = "x" }, options: self.o("Host")) },
            "M18": { _ = try await self.c.recordStatement(.with { $0.meetingID = self.secretariatMeeting; $0.text = "x" }, options: self.o("President")) },
            "M19": { _ = try await self.c.getMeeting(.with { $0.meetingID = self.w.meeting.id }, options: self.o("Bystander")) },
            "M20": {
                let request = try await setup { try await self.w.request() }
                _ = try await self.c.conveneMeeting(self.meeting { $0.operationID = self.other; $0.requestID = request }, options: self.o("President"))
            },
            "M21": {
                let request = try await setup { try await self.w.request() }
                try await setup { _ = try await self.c.declineMeetingRequest(.with { $0.requestID = request; $0.reason = "No" }, options: self.o("President")) }
                _ = try await self.c.conveneMeeting(self.meeting { $0.requestID = request }, options: self.o("President"))
            },
            "M22": {
                let request = try await setup { try await self.w.request() }
                _ = try await self.c.conveneMeeting(self.meeting { $0.form = .councilMeeting; $0.requestID = request }, options: self.o("President"))
            },
            "M23": { _ = try await self.c.conveneMeeting(self.meeting { $0.operationID = self.terminated }, options: self.o("President")) },
            "M24": {
                let report = try await setup { try await self.w.publishReport() }
                _ = try await self.c.conveneMeeting(self.meeting { $0.operationID = self.other; $0.reportID = report }, options: self.o("President"))
            },
            "M25": {
                let concern = try await setup { try await self.w.concern() }
                _ = try await self.c.respondToConcern(.with { $0.statementID = concern; $0.response = "x" }, options: self.o("Member"))
            },
            "M26": {
                let statement = try await setup {
                    try await self.c.recordStatement(.with { $0.meetingID = self.w.meeting.id; $0.text = "We support it" }, options: self.o("Troops")).id
                }
                _ = try await self.c.respondToConcern(.with { $0.statementID = statement; $0.response = "x" }, options: self.o("Secretariat"))
            },
            "M27": { _ = try await self.c.getConsultationAccount(.with { $0.operationID = op }, options: self.o("Troops")) },
            "M28": {
                // Recorded in the order they were convened: the Council's consultations first.
                let council = try await setup {
                    let operation = try await self.c.createOperation(.with { $0.name = "UNMORDER"; $0.phase = .deployed },
                                                                     options: self.o("Secretariat")).id
                    let council = try await self.c.conveneMeeting(self.meeting {
                        $0.operationID = operation; $0.form = .councilConsultations; $0.stage = .unspecified; $0.clearInformalPaper()
                        $0.scheduledTime = self.at(self.w.f.now - self.hours); $0.pastMeetingReason = "Minutes"
                    }, options: self.o("President")).id
                    _ = try await self.c.conveneMeeting(self.meeting {
                        $0.operationID = operation; $0.scheduledTime = self.at(self.w.f.now - 2 * self.hours); $0.pastMeetingReason = "Minutes"
                    }, options: self.o("President"))
                    return council
                }
                _ = try await self.c.markMeetingHeld(.with { $0.meetingID = council }, options: self.o("President"))
            },
            "M29": {
                _ = try await self.c.conveneMeeting(self.meeting { $0.informalPaper.issues = ["  "] }, options: self.o("President"))
            },
            "M30": {
                let circulated = try await setup { try await self.w.circulatedSummary() }
                _ = try await self.c.recordStatement(.with { $0.meetingID = circulated; $0.text = "One more thing"; $0.concern = true },
                                                     options: self.o("Troops"))
            },
            "M31": {
                _ = try await self.c.conveneMeeting(self.meeting {
                    $0.form = .secretariatMeeting; $0.stage = .unspecified; $0.missionOfficials = [.forceCommander, .specialRepresentative, .forceCommander]
                }, options: self.o("Secretariat"))
            },
            "M33": {
                _ = try await self.c.conveneMeeting(self.meeting { $0.additionalInviteeIds = [self.w.id("Host"), self.w.id("Agency"), self.w.id("Host")] },
                                                    options: self.o("President"))
            },
            "M34": {
                let concern = try await setup {
                    let id = try await self.w.concern()
                    _ = try await self.c.respondToConcern(.with { $0.statementID = id; $0.response = "Air assets are on their way" },
                                                          options: self.o("Secretariat"))
                    return id
                }
                _ = try await self.c.respondToConcern(.with { $0.statementID = concern; $0.response = "Never mind" }, options: self.o("President"))
            },
            "M32": {
                _ = try await self.c.conveneMeeting(self.meeting { $0.public = true }, options: self.o("President"))
            },
        ]
    }
}
