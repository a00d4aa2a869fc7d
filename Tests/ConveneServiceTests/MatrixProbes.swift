import ConveneClient
import ConveneProtos
import ConveneRPC
import ConveneTransport
import Foundation
import XCTest

/// A representative call of each built-in method, made with the caller's options. What a call
/// needs that another call would use up (a meeting to hold, a concern to answer) is made fresh,
/// with privileged credentials, inside `setup`.
struct MatrixProbes {
    typealias Probe = (CallOptions) async throws -> Void
    let world: World

    var probes: [String: Probe] {
        consultation.merging(briefingAndLessons) { a, _ in a }.merging(administration) { a, _ in a }.merging(open) { a, _ in a }
    }

    var consultation: [String: Probe] {
        let w = world
        let c = w.client.consultation
        return [
            "Consultation/CreateOperation": { o in
                _ = try await c.createOperation(.with { $0.name = "UNMIX-\(w.next())"; $0.phase = .planning }, options: o)
            },
            "Consultation/GetOperation": { o in _ = try await c.getOperation(.with { $0.operationID = w.operation }, options: o) },
            "Consultation/ListOperations": { o in _ = try await c.listOperations(.init(), options: o) },
            "Consultation/UpdateMandate": { o in
                _ = try await c.updateMandate(.with { $0.operationID = w.operation; $0.mandate = "Mandate \(w.next())" }, options: o)
            },
            "Consultation/RecordContribution": { o in
                _ = try await c.recordContribution(.with {
                    $0.operationID = w.operation; $0.partyID = w.id("Donor"); $0.kind = .logistics; $0.quantity = 1
                }, options: o)
            },
            "Consultation/ListContributions": { o in _ = try await c.listContributions(.with { $0.operationID = w.operation }, options: o) },
            "Consultation/IdentifyPotentialContributor": { o in
                // A country giving no personnel yet (a trust fund only), not identified before.
                _ = try await c.identifyPotentialContributor(.with { $0.operationID = w.operation; $0.partyID = w.id("Donor") },
                                                             options: o)
            },
            "Consultation/ProposeInvitations": { o in
                _ = try await c.proposeInvitations(.with { $0.operationID = w.operation; $0.form = .consultationMeeting }, options: o)
            },
            "Consultation/ConveneMeeting": { o in
                _ = try await c.conveneMeeting(.with {
                    $0.operationID = w.operation; $0.form = .consultationMeeting; $0.stage = .significantDevelopments
                    $0.scheduledTime = .init(seconds: (w.f.now + 20 * w.day) / 1000 + Int64(w.next()))
                    $0.informalPaper = .with { $0.agenda = "Developments"; $0.issues = ["The situation"] }
                }, options: o)
            },
            "Consultation/GetMeeting": { o in _ = try await c.getMeeting(.with { $0.meetingID = w.meeting.id }, options: o) },
            "Consultation/ListMeetings": { o in _ = try await c.listMeetings(.init(), options: o) },
            "Consultation/MarkMeetingHeld": { o in
                let id = try await setup { try await w.pastMeeting() }
                _ = try await c.markMeetingHeld(.with { $0.meetingID = id }, options: o)
            },
            "Consultation/RecordStatement": { o in
                _ = try await c.recordStatement(.with { $0.meetingID = w.meeting.id; $0.text = "A statement" }, options: o)
            },
            "Consultation/RespondToConcern": { o in
                let id = try await setup { try await w.concern() }
                _ = try await c.respondToConcern(.with { $0.statementID = id; $0.response = "Helicopter deployed" }, options: o)
            },
            "Consultation/RequestMeeting": { o in
                _ = try await c.requestMeeting(.with {
                    $0.operationID = w.operation; $0.form = .councilMeeting; $0.reason = "The drawdown"
                }, options: o)
            },
            "Consultation/ListMeetingRequests": { o in _ = try await c.listMeetingRequests(.init(), options: o) },
            "Consultation/DeclineMeetingRequest": { o in
                let id = try await setup { try await w.request() }
                _ = try await c.declineMeetingRequest(.with { $0.requestID = id; $0.reason = "Already scheduled" }, options: o)
            },
            "Consultation/PrepareSummary": { o in
                let id = try await setup { try await w.heldMeeting() }
                _ = try await c.prepareSummary(.with { $0.meetingID = id; $0.text = "Summary" }, options: o)
            },
            "Consultation/CirculateSummary": { o in
                let id = try await setup { try await w.preparedSummary() }
                _ = try await c.circulateSummary(.with { $0.meetingID = id }, options: o)
            },
            "Consultation/GetSummary": { o in _ = try await c.getSummary(.with { $0.meetingID = w.summarized }, options: o) },
            "Consultation/GetConsultationAccount": { o in
                _ = try await c.getConsultationAccount(.with { $0.operationID = w.operation }, options: o)
            },
            "Consultation/WatchOperation": { o in
                try await firstMessage(try await c.watchOperation(.with { $0.operationID = w.operation }, options: o))
            },
        ]
    }

    var briefingAndLessons: [String: Probe] {
        let w = world
        let b = w.client.briefing, l = w.client.lessons
        return [
            "Briefing/PublishReport": { o in
                _ = try await b.publishReport(.with { $0.operationID = w.operation; $0.symbol = "S/1"; $0.title = "Report" }, options: o)
            },
            "Briefing/DistributeReport": { o in
                let report = try await setup { try await w.publishReport() }
                _ = try await b.distributeReport(.with { $0.reportID = report; $0.meetingID = w.meeting.id }, options: o)
            },
            "Briefing/ListReports": { o in _ = try await b.listReports(.with { $0.operationID = w.operation }, options: o) },
            "Briefing/IssueFactSheet": { o in
                _ = try await b.issueFactSheet(.with { $0.meetingID = w.meeting.id; $0.title = "Sheet"; $0.content = "Facts" }, options: o)
            },
            "Briefing/ListFactSheets": { o in _ = try await b.listFactSheets(.with { $0.meetingID = w.meeting.id }, options: o) },
            "Briefing/UploadAttachment": { o in _ = try await w.upload(to: w.meeting.id, as: "", options: o) },
            "Briefing/DownloadAttachment": { o in
                try await firstMessage(try await b.downloadAttachment(.with { $0.attachmentID = w.attachment }, options: o))
            },
            "Briefing/GiveBriefing": { o in
                _ = try await b.giveBriefing(.with {
                    $0.meetingID = w.meeting.id; $0.brieferName = "SRSG"; $0.brieferRole = .seniorFieldMission
                    $0.assessment = .with { $0.political = "Tense" }
                }, options: o)
            },
            "Briefing/ListBriefings": { o in _ = try await b.listBriefings(.with { $0.meetingID = w.meeting.id }, options: o) },
            "Briefing/SubmitAdvice": { o in
                _ = try await b.submitAdvice(.with {
                    $0.operationID = w.operation; $0.question = "?"
                    $0.options = [.with { $0.title = "A"; $0.objectiveAnalysis = "a" }, .with { $0.title = "B"; $0.objectiveAnalysis = "b" }]
                }, options: o)
            },
            "Briefing/ListAdvice": { o in _ = try await b.listAdvice(.with { $0.operationID = w.operation }, options: o) },
            "Lessons/ConveneEvaluationMeeting": { o in
                _ = try await l.conveneEvaluationMeeting(.with {
                    $0.operationID = w.operation; $0.stage = "after the rotation"; $0.scheduledTime = .init(seconds: (w.f.now + w.day) / 1000)
                }, options: o)
            },
            "Lessons/SubmitExperience": { o in _ = try await w.submitExperience(as: "", options: o) },
            "Lessons/ListExperience": { o in _ = try await l.listExperience(.with { $0.operationID = w.operation }, options: o) },
            "Lessons/RecordLesson": { o in
                _ = try await l.recordLesson(.with {
                    $0.operationID = w.operation; $0.stage = .deployment; $0.finding = "F"; $0.recommendation = "R"
                }, options: o)
            },
            "Lessons/SearchLessons": { o in _ = try await l.searchLessons(.with { $0.query = "fuel" }, options: o) },
        ]
    }

    var administration: [String: Probe] {
        let w = world
        let a = w.client.administration, p = w.client.pluginAdministration
        return [
            "Administration/RegisterParty": { o in
                _ = try await a.registerParty(.with { $0.name = "Party \(w.next())"; $0.kind = .memberState }, options: o)
            },
            "Administration/SetRoles": { o in _ = try await a.setRoles(.with { $0.partyID = w.id("Potential") }, options: o) },
            "Administration/PassPresidency": { o in
                _ = try await a.passPresidency(.with { $0.partyID = w.id("Member") }, options: o)
                // ... and back, so that the President stays the President for the rest of the table.
                try await setup { _ = try await a.passPresidency(.with { $0.partyID = w.id("President") }, options: .bearer(try w.f.adminToken)) }
            },
            "Administration/ListPresidencies": { o in _ = try await a.listPresidencies(.init(), options: o) },
            "Administration/ListParties": { o in _ = try await a.listParties(.init(), options: o) },
            "Administration/IssueCredential": { o in _ = try await a.issueCredential(.with { $0.partyID = w.id("Bystander") }, options: o) },
            "Administration/RevokeCredential": { o in
                let credential = try await setup { try await w.credential(for: "Bystander") }
                _ = try await a.revokeCredential(.with { $0.credentialID = credential.credentialID }, options: o)
            },
            "PluginAdministration/ListPlugins": { o in _ = try await p.listPlugins(.init(), options: o) },
            "PluginAdministration/LoadPlugin": { o in
                // Inside the server's (empty) plugin directory, and no such library there.
                _ = try await p.loadPlugin(.with { $0.path = AuthorizationMatrixTests.pluginDirectory + "/libNone.so" }, options: o)
            },
            "PluginAdministration/UnloadPlugin": { o in _ = try await p.unloadPlugin(.with { $0.name = "no-such-plugin" }, options: o) },
            "PluginAdministration/ReloadPlugin": { o in _ = try await p.reloadPlugin(.with { $0.name = "no-such-plugin" }, options: o) },
        ]
    }

    /// Open without credentials by design (Docs/SERVICES.md, "Credentials").
    var open: [String: Probe] {
        let c = world.client
        return [
            "Health/Check": { o in _ = try await c.health.check(.init(), options: o) },
            "Health/Watch": { o in try await firstMessage(try await c.health.watch(.init(), options: o)) },
            "Reflection/ListServices": { o in _ = try await c.reflection.listServices(.init(), options: o) },
            "Reflection/GetFileDescriptors": { o in
                _ = try await c.reflection.getFileDescriptors(.with { $0.symbol = "convene.health.v1.Health" }, options: o)
            },
            "Benchmark/UnaryEcho": { o in _ = try await c.benchmark.unaryEcho(.with { $0.payload = Data([1, 2, 3]) }, options: o) },
            "Benchmark/StreamFromServer": { o in
                try await firstMessage(try await c.benchmark.streamFromServer(.with { $0.count = 1; $0.size = 8 }, options: o))
            },
            "Benchmark/StreamFromClient": { o in
                let call = try await c.benchmark.streamFromClient(options: o)
                try await call.send(.with { $0.size = 8 })
                try await call.finish()
                _ = try await call.response()
            },
            "Benchmark/StreamBoth": { o in
                let call = try await c.benchmark.streamBoth(options: o)
                try await call.send(.with { $0.size = 8 })
                try await call.finish()
                for try await _ in call.responses {}
            },
            "grpc.health.v1.Health/Check": { o in _ = try await c.grpcHealth.check(.init(), options: o) },
            "grpc.health.v1.Health/List": { o in _ = try await c.grpcHealth.list(.init(), options: o) },
            "grpc.health.v1.Health/Watch": { o in try await firstMessage(try await c.grpcHealth.watch(.init(), options: o)) },
            "grpc.reflection.v1.ServerReflection/ServerReflectionInfo": { o in
                let call = try await c.serverReflection.serverReflectionInfo(options: o)
                try await call.send(.with { $0.listServices = "" })
                try await call.finish()
                for try await _ in call.responses {}
            },
            "grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo": { o in
                let call = try await c.serverReflectionV1Alpha.serverReflectionInfo(options: o)
                try await call.send(.with { $0.listServices = "" })
                try await call.finish()
                for try await _ in call.responses {}
            },
        ]
    }
}
