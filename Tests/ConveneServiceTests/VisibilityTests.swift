import ConveneClient
import ConveneProtos
import ConveneRPC
import ConveneTransport
import Foundation
import SwiftProtobuf
import XCTest

/// A meeting reaches no party that is not invited to it (the President and the Secretariat
/// apart), through any read method of the built-in services, the watch stream included.
final class VisibilityTests: XCTestCase {
    /// Every read method of the consultation, briefing and lessons services, as called below.
    static let readMethods: Set<String> = [
        "GetOperation", "ListOperations", "ListContributions", "GetMeeting", "ListMeetings", "ListMeetingRequests", "GetSummary",
        "GetConsultationAccount", "WatchOperation", "ListReports", "ListFactSheets", "DownloadAttachment", "ListBriefings",
        "ListAdvice", "ListExperience", "SearchLessons",
    ]

    func testAMeetingReachesNoPartyNotInvitedToItThroughAnyReadMethod() async throws {
        let f = try await Fixture(configure: { $0.pluginDirectories = [] })
        let w = World(f)
        try await w.build()
        let domainServices = ["convene.consultation.v1.Consultation", "convene.briefing.v1.Briefing", "convene.lessons.v1.Lessons"]
        let reads = Set(f.server.router.methods.filter { domainServices.contains($0.descriptor.service) }.map(\.descriptor.method)
            .filter { ["Get", "List", "Search", "Watch", "Download"].contains(where: $0.hasPrefix) })
        XCTAssertEqual(reads, Self.readMethods, "every read method is called below")

        // Hidden meetings: a II.C meeting with its material, an assessment meeting a lesson came
        // from, and the World's II.B meeting (a report went to it).
        let secret = try await f.convene(w.operation, form: .secretariatMeeting, stage: .unspecified, as: "Secretariat", paper: false).id
        _ = try await f.client.consultation.recordStatement(.with { $0.meetingID = secret; $0.text = "Fuel" }, options: f.options("Troops"))
        _ = try await f.client.briefing.issueFactSheet(.with { $0.meetingID = secret; $0.title = "T"; $0.content = "C" },
                                                       options: f.options("Secretariat"))
        let secretAttachment = try await w.upload(to: secret, as: "Secretariat").id
        let evaluation = try await f.client.lessons.conveneEvaluationMeeting(.with {
            // Past: a lesson is drawn from an assessment meeting once it has taken place (I.B.3).
            $0.operationID = w.operation; $0.stage = "first rotation"; $0.scheduledTime = .init(seconds: (f.now - w.day) / 1000)
            $0.pastMeetingReason = "Held before it was recorded here"
        }, options: f.options("Secretariat")).meetingID
        _ = try await f.client.lessons.recordLesson(.with {
            $0.operationID = w.operation; $0.stage = .deployment; $0.finding = "Fuel ran short"; $0.recommendation = "Stock fuel"
            $0.sourceID = evaluation
        }, options: f.options("Secretariat"))

        let everyHidden = [w.meeting.id, secret, evaluation]
        for (outsider, hidden, attachments) in [("Donor", everyHidden, [w.attachment, secretAttachment]),
                                                ("Member", [secret, evaluation], [secretAttachment]),
                                                ("Agency", everyHidden, [w.attachment, secretAttachment]),
                                                ("Bystander", everyHidden, [w.attachment, secretAttachment])] {
            let seen = try await readEverything(w, as: outsider, hidden: hidden, attachments: attachments)
            let watched = seen.filter { $0.0 == "WatchOperation" }.map(\.1)
            if ["Donor", "Member"].contains(outsider) {
                XCTAssertTrue(watched.count > 2 && watched.last?.contains("contribution.recorded") == true,
                              "\(outsider) watches the operation up to the sentinel: \(watched.last ?? "")")
            } else {
                XCTAssertEqual(watched.map { $0.prefix(17) }, ["PERMISSION_DENIED"], "\(outsider) takes no part in the operation")
            }
            for id in hidden {
                let mention = try NSRegularExpression(pattern: NSRegularExpression.escapedPattern(for: id) + "(?![0-9])")
                for (method, text) in seen where mention.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil {
                    XCTFail("\(outsider) learns of \(id) through \(method): \(text.prefix(300))")
                }
            }
        }
        await f.stop()
        f.remove()
    }

    /// Calls every read method as `party`; the text of each answer (or refusal), by method. A call
    /// naming a hidden record must answer as for one that does not exist.
    func readEverything(_ w: World, as party: String, hidden: [String], attachments: [String]) async throws -> [(String, String)] {
        let c = w.client.consultation, b = w.client.briefing, l = w.client.lessons
        let o = w.options(party)
        var seen: [(String, String)] = []
        func record(_ method: String, _ body: () async throws -> any SwiftProtobuf.Message) async {
            do { seen.append((method, try await body().textFormatString())) } catch {
                seen.append((method, "\(RPCError.from(error).code.name): \(RPCError.from(error).message)"))
            }
        }
        /// The refusal for `id` reads as the one for a record that does not exist.
        func asIfAbsent(_ method: String, _ id: String, absent: String, _ call: (String) async throws -> Void) async {
            func answer(_ value: String) async -> String {
                do { try await call(value); return "OK" } catch {
                    let e = RPCError.from(error)
                    return "\(e.code.name): \(e.message.replacingOccurrences(of: value, with: "<id>"))"
                }
            }
            let (hiddenAnswer, absentAnswer) = (await answer(id), await answer(absent))
            XCTAssertEqual(hiddenAnswer, absentAnswer, "\(party) \(method) \(id): a hidden record answers as an absent one")
        }
        await record("GetOperation") { try await c.getOperation(.with { $0.operationID = w.operation }, options: o) }
        await record("ListOperations") { try await c.listOperations(.init(), options: o) }
        await record("ListContributions") { try await c.listContributions(.with { $0.operationID = w.operation }, options: o) }
        await record("ListMeetings") { try await c.listMeetings(.init(), options: o) }
        await record("ListMeetings") { try await c.listMeetings(.with { $0.operationID = w.operation }, options: o) }
        await record("ListMeetingRequests") { try await c.listMeetingRequests(.init(), options: o) }
        await record("GetConsultationAccount") { try await c.getConsultationAccount(.with { $0.operationID = w.operation }, options: o) }
        await record("ListReports") { try await b.listReports(.with { $0.operationID = w.operation }, options: o) }
        await record("ListAdvice") { try await b.listAdvice(.with { $0.operationID = w.operation }, options: o) }
        await record("ListExperience") { try await l.listExperience(.with { $0.operationID = w.operation }, options: o) }
        await record("SearchLessons") { try await l.searchLessons(.init(), options: o) }
        for id in hidden {
            await asIfAbsent("GetMeeting", id, absent: "mtg-999999") { value in _ = try await c.getMeeting(.with { $0.meetingID = value }, options: o) }
            await asIfAbsent("GetSummary", id, absent: "mtg-999999") { value in _ = try await c.getSummary(.with { $0.meetingID = value }, options: o) }
            await asIfAbsent("ListFactSheets", id, absent: "mtg-999999") { value in
                _ = try await b.listFactSheets(.with { $0.meetingID = value }, options: o)
            }
            await asIfAbsent("ListBriefings", id, absent: "mtg-999999") { value in
                _ = try await b.listBriefings(.with { $0.meetingID = value }, options: o)
            }
        }
        for id in attachments {
            await asIfAbsent("DownloadAttachment", id, absent: "att-999999") { value in
                try await firstMessage(try await b.downloadAttachment(.with { $0.attachmentID = value }, options: o))
            }
        }
        // The watch: everything committed so far, up to a sentinel recorded after the watch opened.
        seen += try await w.watchedUntilSentinel(as: party).map { ("WatchOperation", $0) }
        return seen
    }
}
