import ConveneClient
import ConveneProtos
import ConveneRPC
import ConveneTransport
import Foundation
import XCTest

/// Who may do what: every method of the router's built-in services, called by every kind of
/// caller against a real server, gets the status the table says. A method the router serves
/// without a row fails the test, and so does a row the router does not serve.
final class AuthorizationMatrixTests: XCTestCase {
    /// The callers, in the table's column order.
    static let callers = ["none", "revoked", "admin", "President", "Member", "Secretariat", "Troops", "Host", "Regional", "Bystander"]

    /// OK, or the refusal: U unauthenticated, P permission denied, N not found, F failed precondition.
    /// Columns: no token, revoked token, administrator, President, Council member, Secretariat,
    /// contributor of troops, host country, observer body invited to the meeting (a regional
    /// organization, II.B.3(h)), stranger (no role, contribution or invitation on the operation).
    static let matrix: [String: String] = [
        //                                                 none rev  adm  Pres Mem  Secr Trp  Host Obs  Strg
        "Consultation/CreateOperation":                   "U    U    P    P    P    OK   P    P    P    P",
        "Consultation/GetOperation":                      "U    U    P    OK   OK   OK   OK   OK   OK   OK",
        "Consultation/ListOperations":                    "U    U    P    OK   OK   OK   OK   OK   OK   OK",
        "Consultation/UpdateMandate":                     "U    U    P    OK   P    P    P    P    P    P",
        "Consultation/RecordContribution":                "U    U    P    P    P    OK   P    P    P    P",
        "Consultation/ListContributions":                 "U    U    P    OK   OK   OK   OK   OK   OK   P",
        "Consultation/IdentifyPotentialContributor":      "U    U    P    P    P    OK   P    P    P    P",
        "Consultation/ProposeInvitations":                "U    U    P    OK   P    P    P    P    P    P",
        "Consultation/ConveneMeeting":                    "U    U    P    OK   P    P    P    P    P    P",
        "Consultation/GetMeeting":                        "U    U    P    OK   OK   OK   OK   OK   OK   N",
        "Consultation/ListMeetings":                      "U    U    P    OK   OK   OK   OK   OK   OK   OK",
        "Consultation/MarkMeetingHeld":                   "U    U    P    OK   P    P    P    P    P    N",
        "Consultation/RecordStatement":                   "U    U    P    OK   OK   OK   OK   P    P    N",
        "Consultation/RespondToConcern":                  "U    U    P    OK   P    OK   P    P    P    P",
        "Consultation/RequestMeeting":                    "U    U    P    P    P    P    OK   P    P    P",
        "Consultation/ListMeetingRequests":               "U    U    P    OK   OK   OK   OK   OK   OK   OK",
        "Consultation/DeclineMeetingRequest":             "U    U    P    OK   P    P    P    P    P    P",
        "Consultation/PrepareSummary":                    "U    U    P    OK   P    OK   P    P    P    P",
        "Consultation/CirculateSummary":                  "U    U    P    OK   P    P    P    P    P    P",
        "Consultation/GetSummary":                        "U    U    P    OK   OK   OK   P    P    P    P",
        "Consultation/GetConsultationAccount":            "U    U    P    OK   OK   OK   P    P    P    P",
        "Consultation/WatchOperation":                    "U    U    P    OK   OK   OK   OK   OK   OK   P",
        "Briefing/PublishReport":                         "U    U    P    P    P    OK   P    P    P    P",
        "Briefing/DistributeReport":                      "U    U    P    P    P    OK   P    P    P    P",
        "Briefing/ListReports":                           "U    U    P    OK   OK   OK   OK   OK   OK   P",
        "Briefing/IssueFactSheet":                        "U    U    P    P    P    OK   P    P    P    P",
        "Briefing/ListFactSheets":                        "U    U    P    OK   OK   OK   OK   OK   OK   N",
        "Briefing/UploadAttachment":                      "U    U    P    P    P    OK   P    P    P    P",
        "Briefing/DownloadAttachment":                    "U    U    P    OK   OK   OK   OK   OK   OK   N",
        "Briefing/GiveBriefing":                          "U    U    P    P    P    OK   P    P    P    P",
        "Briefing/ListBriefings":                         "U    U    P    OK   OK   OK   OK   OK   OK   N",
        "Briefing/SubmitAdvice":                          "U    U    P    P    P    OK   P    P    P    P",
        "Briefing/ListAdvice":                            "U    U    P    OK   OK   OK   OK   P    P    P",
        "Lessons/ConveneEvaluationMeeting":               "U    U    P    P    P    OK   P    P    P    P",
        "Lessons/SubmitExperience":                       "U    U    P    P    P    P    OK   P    P    P",
        "Lessons/ListExperience":                         "U    U    P    OK   OK   OK   OK   OK   OK   P",
        "Lessons/RecordLesson":                           "U    U    P    P    P    OK   P    P    P    P",
        "Lessons/SearchLessons":                          "U    U    P    OK   OK   OK   OK   OK   OK   OK",
        "Administration/RegisterParty":                   "U    U    OK   P    P    P    P    P    P    P",
        "Administration/SetRoles":                        "U    U    OK   P    P    P    P    P    P    P",
        "Administration/PassPresidency":                  "U    U    OK   P    P    P    P    P    P    P",
        "Administration/ListPresidencies":                "U    U    OK   P    P    P    P    P    P    P",
        "Administration/ListParties":                     "U    U    OK   P    P    P    P    P    P    P",
        "Administration/IssueCredential":                 "U    U    OK   P    P    P    P    P    P    P",
        "Administration/RevokeCredential":                "U    U    OK   P    P    P    P    P    P    P",
        "PluginAdministration/ListPlugins":               "U    U    OK   OK   OK   OK   OK   OK   OK   OK",
        "PluginAdministration/LoadPlugin":                "U    U    F    P    P    P    P    P    P    P",
        "PluginAdministration/UnloadPlugin":              "U    U    N    P    P    P    P    P    P    P",
        "PluginAdministration/ReloadPlugin":              "U    U    N    P    P    P    P    P    P    P",
        "Health/Check":                                   "OK   OK   OK   OK   OK   OK   OK   OK   OK   OK",
        "Health/Watch":                                   "OK   OK   OK   OK   OK   OK   OK   OK   OK   OK",
        "Reflection/ListServices":                        "OK   OK   OK   OK   OK   OK   OK   OK   OK   OK",
        "Reflection/GetFileDescriptors":                  "OK   OK   OK   OK   OK   OK   OK   OK   OK   OK",
        "Benchmark/UnaryEcho":                            "OK   OK   OK   OK   OK   OK   OK   OK   OK   OK",
        "Benchmark/StreamFromServer":                     "OK   OK   OK   OK   OK   OK   OK   OK   OK   OK",
        "Benchmark/StreamFromClient":                     "OK   OK   OK   OK   OK   OK   OK   OK   OK   OK",
        "Benchmark/StreamBoth":                           "OK   OK   OK   OK   OK   OK   OK   OK   OK   OK",
        // gRPC's standard services, named in full (their short names are Convene's too).
        "grpc.health.v1.Health/Check":                    "OK   OK   OK   OK   OK   OK   OK   OK   OK   OK",
        "grpc.health.v1.Health/List":                     "OK   OK   OK   OK   OK   OK   OK   OK   OK   OK",
        "grpc.health.v1.Health/Watch":                    "OK   OK   OK   OK   OK   OK   OK   OK   OK   OK",
        "grpc.reflection.v1.ServerReflection/ServerReflectionInfo":      "OK   OK   OK   OK   OK   OK   OK   OK   OK   OK",
        "grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo": "OK   OK   OK   OK   OK   OK   OK   OK   OK   OK",
    ]

    /// A method's row: `Service/Method` for Convene's own services, the full name for gRPC's.
    static func row(_ descriptor: MethodDescriptor) -> String {
        descriptor.service.hasPrefix("grpc.") ? "\(descriptor.service)/\(descriptor.method)"
            : "\(descriptor.service.split(separator: ".").last!)/\(descriptor.method)"
    }

    static let codes: [String: StatusCode] = [
        "OK": .ok, "U": .unauthenticated, "P": .permissionDenied, "N": .notFound, "F": .failedPrecondition,
    ]

    /// The server's plugin directory here: empty, so that no plugin method joins the built-in ones.
    static let pluginDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("convene-matrix-plugins").path

    func testEveryBuiltInMethodAnswersEachCallerAsTheTableSays() async throws {
        try FileManager.default.createDirectory(atPath: Self.pluginDirectory, withIntermediateDirectories: true)
        let f = try await Fixture(configure: { $0.pluginDirectories = [Self.pluginDirectory] })
        let world = World(f)
        try await world.build()
        let revoked = try await world.credential(for: "Troops")
        _ = try await f.client.administration.revokeCredential(.with { $0.credentialID = revoked.credentialID },
                                                               options: .bearer(try f.adminToken))
        let admin = try f.adminToken
        func options(_ caller: String) -> CallOptions {
            switch caller {
            case "none": CallOptions(timeout: .seconds(30))
            case "revoked": .bearer(revoked.token, timeout: .seconds(30))
            case "admin": .bearer(admin, timeout: .seconds(30))
            default: .bearer(f.tokens[caller]!, timeout: .seconds(30))
            }
        }

        // The router's built-in methods and the table's rows are the same set.
        let served = Set(f.server.router.methods.filter { $0.owner == "builtin" }.map { Self.row($0.descriptor) })
        XCTAssertEqual(served.subtracting(Self.matrix.keys).sorted(), [], "built-in methods without a row in the matrix")
        XCTAssertEqual(Set(Self.matrix.keys).subtracting(served).sorted(), [], "rows for methods the router does not serve")
        let probes = MatrixProbes(world: world).probes
        XCTAssertEqual(Set(probes.keys), Set(Self.matrix.keys), "a probe per row")

        for (method, row) in Self.matrix.sorted(by: { $0.key < $1.key }) {
            let expected = row.split(separator: " ").map(String.init)
            XCTAssertEqual(expected.count, Self.callers.count, "\(method): a cell per caller")
            guard let probe = probes[method] else { continue }
            for (caller, cell) in zip(Self.callers, expected) {
                let got: StatusCode
                do {
                    try await probe(options(caller))
                    got = .ok
                } catch let failure as SetupFailure {
                    XCTFail("\(method) as \(caller): setting up the call failed: \(failure.message)")
                    continue
                } catch {
                    got = RPCError.from(error).code
                }
                XCTAssertEqual(got, Self.codes[cell], "\(method) as \(caller): \(cell) expected, got \(got.name)")
            }
        }
        await f.stop()
        f.remove()
    }
}

/// A step that prepares a call (with privileged credentials) failed: the cell is not judged.
struct SetupFailure: Error {
    let message: String
}

/// Runs `body` as the preparation of a probed call.
func setup<T>(_ body: () async throws -> T) async throws -> T {
    do { return try await body() } catch { throw SetupFailure(message: "\(error)") }
}
