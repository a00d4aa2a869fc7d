import ConveneClient
import ConveneProtos
import ConveneRPC
import ConveneTransport
import Foundation
import NIOCore
import SwiftProtobuf
import XCTest

/// The plugin boundary's access rules through the real server: every plugin method needs a
/// live credential, plugins see their caller, libraries load only from the plugin
/// directories, and ListPlugins shows files to administrators only.
class PluginAccessTests: PluginTestCase {
    var bin: URL { f.pluginFolder }
    func fixture(_ name: String) -> String { f.fixture(name) }
    func load(_ path: String) async throws -> Convene_Plugins_V1_PluginInfo { try await f.loadPlugin(path) }
    var admin: CallOptions { get throws { .bearer(try f.adminToken) } }

    func raw(_ path: String, _ bytes: [UInt8] = [], options: CallOptions) async throws -> [UInt8] {
        Array(buffer: try await f.client.unary(path: path, request: ByteBuffer(bytes: bytes), options: options).message)
    }

    /// A credential for Troops, used on a plugin method (so the server knows it), then revoked.
    func revokedToken() async throws -> String {
        let issued = try await f.client.unary(AM.issueCredential, Convene_Admin_V1_IssueCredentialRequest.with {
            $0.partyID = f.ids["Troops"]!; $0.label = "to revoke"
        }, as: Convene_Admin_V1_IssueCredentialResponse.self, options: try admin)
        let before = try await raw("/test.Behaviour/Caller", options: .bearer(issued.token))
        XCTAssertEqual(String(decoding: before, as: UTF8.self), "\(f.ids["Troops"]!) roles=")
        _ = try await f.client.unary(AM.revokeCredential, Convene_Admin_V1_RevokeCredentialRequest.with {
            $0.credentialID = issued.credentialID
        }, as: Convene_Admin_V1_RevokeCredentialResponse.self, options: try admin)
        return issued.token
    }

    func testEveryPluginMethodNeedsALiveCredentialBeforeThePluginRuns() async throws {
        _ = try await load(fixture("Behaviour"))
        let revoked = try await revokedToken()
        let plugins = try await f.client.unary(PM.listPlugins, Convene_Plugins_V1_ListPluginsRequest(),
                                               as: Convene_Plugins_V1_ListPluginsResponse.self, options: try admin).plugins
        let paths = plugins.flatMap(\.methods).map { "/" + $0 }
        XCTAssertGreaterThan(paths.count, 30)
        XCTAssertTrue(paths.contains("/convene.assessment.v1.FollowUpAssessment/SubmitProposal"))
        XCTAssertTrue(paths.contains("/convene.friends.v1.GroupsOfFriends/ListGroups"))
        let refusals: [(CallOptions, String)] = [
            (CallOptions(), "no credential"), (.bearer("bogus-token"), "unknown or revoked"), (.bearer(revoked), "unknown or revoked"),
        ]
        for path in paths {
            for (options, reason) in refusals {
                await assertRPCError(.unauthenticated, containing: reason) { try await self.raw(path, options: options) }
            }
        }
        // The plugin never ran: the fixture's Echo counts its calls, and none was counted.
        let count = try await raw("/test.Behaviour/Count", options: f.options("Troops"))
        XCTAssertEqual(count, [0, 0, 0, 0, 0, 0, 0, 0])
    }

    func testAPluginSeesItsCallersPartyAndRoles() async throws {
        _ = try await load(fixture("Behaviour"))
        let troops = try await raw("/test.Behaviour/Caller", options: f.options("Troops"))
        XCTAssertEqual(String(decoding: troops, as: UTF8.self), "\(f.ids["Troops"]!) roles=")
        let president = try await raw("/test.Behaviour/Caller", options: f.options("President"))
        XCTAssertEqual(String(decoding: president, as: UTF8.self), "\(f.ids["President"]!) roles=1")
        let secretariat = try await raw("/test.Behaviour/Caller", options: f.options("Secretariat"))
        XCTAssertEqual(String(decoding: secretariat, as: UTF8.self), "\(f.ids["Secretariat"]!) roles=3")
    }

    /// Credentials the server has not seen are checked without blocking the server's task
    /// threads: many at once, with built-in calls reading the database meanwhile, all are
    /// answered. (A blocking lookup held every task thread, the reads that held the
    /// database's connections could not resume to give them back, and the server stalled.)
    func testManyNewCredentialsAtOnceAreAllAnswered() async throws {
        _ = try await load(fixture("Behaviour"))
        let troops = f.ids["Troops"]!
        var tokens: [String] = []
        for index in 0..<32 {
            tokens.append(try await f.client.unary(AM.issueCredential, Convene_Admin_V1_IssueCredentialRequest.with {
                $0.partyID = troops; $0.label = "burst \(index)"
            }, as: Convene_Admin_V1_IssueCredentialResponse.self, options: try admin).token)
        }
        let client: ConveneClient = f.client
        let answers = try await withThrowingTaskGroup(of: String?.self) { group in
            for token in tokens {
                let options = CallOptions.bearer(token, timeout: .seconds(30))
                group.addTask {
                    let answer = try await client.unary(path: "/test.Behaviour/Caller", request: ByteBuffer(), options: options)
                    return String(buffer: answer.message)
                }
                for _ in 0..<4 {
                    group.addTask {
                        _ = try await client.unary(path: "/convene.consultation.v1.Consultation/ListOperations",
                                                   request: ByteBuffer(), options: options)
                        return nil
                    }
                }
            }
            return try await group.reduce(into: [String]()) { if let answer = $1 { $0.append(answer) } }
        }
        XCTAssertEqual(answers, Array(repeating: "\(troops) roles=", count: tokens.count))
    }

    func testLibrariesLoadOnlyFromThePluginDirectories() async throws {
        let outside = FileManager.default.temporaryDirectory.appendingPathComponent("convene-outside-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: outside) }
        let copy = outside.appendingPathComponent("libCopied.so").path
        try FileManager.default.copyItem(atPath: fixture("Behaviour"), toPath: copy)
        let link = bin.appendingPathComponent("libConveneTestLink-\(UUID().uuidString).so").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: copy)
        defer { try? FileManager.default.removeItem(atPath: link) }
        let escaping = bin.path + "/../../../" + outside.path + "/libCopied.so"
        for path in [copy, link, escaping, "/etc/passwd"] {
            let error = await assertRPCError(.permissionDenied, containing: "plugins are loaded only from") { try await self.load(path) }
            XCTAssertTrue(error?.message.contains(self.bin.path) ?? false, "names the allowed directory: \(error?.message ?? "")")
        }
        // A path with `..` that stays inside is fine.
        let roundabout = bin.path + "/../" + bin.lastPathComponent + "/libConveneFixture_Behaviour.so"
        let loaded = try await load(roundabout)
        XCTAssertEqual(loaded.name, "behaviour")
        XCTAssertEqual(loaded.file, fixture("Behaviour"), "the resolved path")
    }

    func testListPluginsNeedsACredentialAndShowsFilesToAdministratorsOnly() async throws {
        await assertRPCError(.unauthenticated) {
            try await self.f.client.unary(PM.listPlugins, Convene_Plugins_V1_ListPluginsRequest(),
                                          as: Convene_Plugins_V1_ListPluginsResponse.self)
        }
        let party = try await f.client.unary(PM.listPlugins, Convene_Plugins_V1_ListPluginsRequest(),
                                             as: Convene_Plugins_V1_ListPluginsResponse.self, options: f.options("Troops"))
        XCTAssertFalse(party.plugins.isEmpty)
        XCTAssertTrue(party.plugins.allSatisfy(\.file.isEmpty))
        let administrator = try await f.client.unary(PM.listPlugins, Convene_Plugins_V1_ListPluginsRequest(),
                                                     as: Convene_Plugins_V1_ListPluginsResponse.self, options: try admin)
        XCTAssertTrue(administrator.plugins.allSatisfy { $0.file.hasPrefix(self.bin.path + "/") })
    }
}
