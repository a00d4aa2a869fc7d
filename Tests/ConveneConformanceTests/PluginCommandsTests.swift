import Foundation
import XCTest

/// `convene plugins load|unload|reload|events` against a real server on 127.0.0.1, and
/// `convene plugin test` (the in-memory harness) on the template plugin, as a person runs them.
final class PluginCommandsTests: XCTestCase {
    var binDirectory: URL { ConvenedProcess.binDirectory }
    var template: URL { binDirectory.appendingPathComponent("libConveneTemplatePlugin.so") }

    /// Runs `convene` in `folder` (relative paths are resolved against it).
    func convene(_ arguments: [String], in folder: URL? = nil) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = binDirectory.appendingPathComponent("convene")
        process.arguments = arguments
        if let folder { process.currentDirectoryURL = folder }
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "CONVENE_TOKEN")
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile(), errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: errors, as: UTF8.self))
    }

    func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("convene-plugins-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        return folder
    }

    func testTheHarnessCallsSeedsAndReportsWhatItCannotDo() throws {
        let run = try convene(["plugin", "test", template.path,
                               "-e", #"call Hello {"name": "ada"}"#, "-e", "storage",
                               "-e", "seed calls 0x0500000000000000", "-e", #"call Hello {}"#, "-e", "storage calls",
                               "-e", "call Echo 0x0a03616263", "-e", "call Nope {}",
                               "-e", "event meeting.convened mtg-1", "-e", "caller party-4 chair", "-e", "bogus"])
        XCTAssertEqual(run.status, 0, run.err)
        XCTAssertEqual(run.out, """
            call Hello {"name": "ada"}
            OK {"name":"ada"}
            storage
              calls = 0x0100000000000000
            seed calls 0x0500000000000000
            call Hello {}
            OK {}
            storage calls
              calls = 0x0600000000000000
            call Echo 0x0a03616263
            OK {"payload":"YWJj"}
            call Nope {}
            UNIMPLEMENTED: the plugin has no method Nope
            event meeting.convened mtg-1
            FAILED: the plugin does not subscribe to meeting.convened (it subscribes to nothing)
            caller party-4 chair
            ERROR: unknown role 'chair' (administrator, member, president, secretariat, or a number)
            bogus
            ERROR: unknown command 'bogus' (caller, seed, hide, rule, call, event, storage, events)

            """)
    }

    /// `rule` sets what `ask_rule` answers, and `hide` implies existence-only access to an
    /// operation, so a plugin that asks the server's rules (the MSC's reviews are read as
    /// `ListContributions` is, I.B.2) can be tested with no server.
    func testTheHarnessAnswersAskRuleAsTheScriptSays() throws {
        let msc = binDirectory.appendingPathComponent("libConvenePlugin_MilitaryStaffCommittee.so")
        let run = try convene(["plugin", "test", msc.path, "-e", "caller party-3 member",
                               "-e", #"call ListReviews {"operationId": "op-1"}"#,
                               "-e", "rule 1 op-1 = 1 I.B.2 party-3 has no part in op-1",
                               "-e", #"call ListReviews {"operationId": "op-1"}"#,
                               "-e", "hide op-2", "-e", #"call ListReviews {"operationId": "op-2"}"#,
                               "-e", "rule 1 op-1 1", "-e", "rule x op-1 = 1"])
        XCTAssertEqual(run.status, 0, run.err)
        XCTAssertEqual(run.out, """
            caller party-3 member
            call ListReviews {"operationId": "op-1"}
            OK {}
            rule 1 op-1 = 1 I.B.2 party-3 has no part in op-1
            call ListReviews {"operationId": "op-1"}
            PERMISSION_DENIED: operation_id: party-3 has no part in op-1
            hide op-2
            call ListReviews {"operationId": "op-2"}
            PERMISSION_DENIED: operation_id: op-2 is hidden from the caller (the test's `hide`)
            rule 1 op-1 1
            ERROR: rule QUESTION OBJECT [PARTY] = ANSWER [PROVISION [REASON...]]
            rule x op-1 = 1
            ERROR: rule QUESTION OBJECT [PARTY] = ANSWER [PROVISION [REASON...]]

            """)
    }

    /// A question about a party alone (`-` for no object), and a plugin that cannot get an
    /// answer taking nothing unchecked: the training centres' host must be a country (I.B.1).
    func testAQuestionTheServerCannotAnswerRefusesTheCall() throws {
        let training = binDirectory.appendingPathComponent("libConvenePlugin_Training.so")
        let register = #"call RegisterCentre {"name": "Centre", "hostPartyId": "party-9", "region": "West"}"#
        let run = try convene(["plugin", "test", training.path, "-e", "caller party-1 secretariat", "-e", register,
                               "-e", "rule 6 - party-9 = 0 I.B.1 party-9 is a UN body", "-e", register,
                               "-e", "rule 6 - party-9 = 1", "-e", register])
        XCTAssertEqual(run.status, 0, run.err)
        let lines = run.out.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 9, run.out)
        guard lines.count == 9 else { return }
        XCTAssertTrue(lines[2].hasPrefix("UNAVAILABLE: host_party_id: the server could not tell whether party-9 is a country"), lines[2])
        XCTAssertEqual(lines[5], "FAILED_PRECONDITION: host_party_id: party-9 is a UN body")
        XCTAssertTrue(lines[8].hasPrefix("OK "), lines[8])
    }

    func testTheHarnessComparesWithTheExpectedOutput() throws {
        let folder = try temporaryFolder()
        let script = folder.appendingPathComponent("hello.test")
        try "# a call\ncall Hello {\"name\": \"ada\"}\n".write(to: script, atomically: true, encoding: .utf8)
        try "# a call\ncall Hello {\"name\": \"ada\"}\nOK {\"name\":\"bob\"}\n"
            .write(to: folder.appendingPathComponent("hello.expected"), atomically: true, encoding: .utf8)

        let failing = try convene(["plugin", "test", template.path, script.path])
        XCTAssertEqual(failing.status, 1, failing.err)
        XCTAssertTrue(failing.out.contains("FAIL \(script.path)"), failing.out)
        XCTAssertTrue(failing.out.contains("  line 3 -OK {\"name\":\"bob\"}\n  line 3 +OK {\"name\":\"ada\"}\n"), failing.out)
        XCTAssertEqual(try String(contentsOf: folder.appendingPathComponent("hello.out"), encoding: .utf8),
                       "# a call\ncall Hello {\"name\": \"ada\"}\nOK {\"name\":\"ada\"}\n")

        XCTAssertEqual(try convene(["plugin", "test", template.path, script.path, "--update"]).status, 0)
        let passing = try convene(["plugin", "test", template.path, "hello.test"], in: folder)
        XCTAssertEqual(passing.status, 0, passing.out)
        XCTAssertEqual(passing.out, "ok hello.test\n")

        let missing = try convene(["plugin", "test", folder.appendingPathComponent("none.so").path, script.path])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.err.contains("none.so: cannot be loaded"), missing.err)
    }

    /// A library claiming another Swift toolchain (as the SDK's generated entry point exports it) is
    /// refused before its entry point runs, naming both toolchains.
    func testAPluginOfAnotherSwiftToolchainIsRefused() throws {
        let folder = try temporaryFolder()
        let source = folder.appendingPathComponent("other.c")
        try """
            #include <stdlib.h>
            #include "convene_plugin.h"
            __attribute__((visibility("default"))) const char *convene_plugin_swift_toolchain(void) { return "5.9"; }
            __attribute__((visibility("default"))) int32_t convene_plugin_entry(const convene_host_api *api, convene_host *host,
                const convene_plugin_descriptor **out, const char **error) { abort(); }
            """.write(to: source, atomically: true, encoding: .utf8)
        let library = folder.appendingPathComponent("libother.so")
        let compile = Process()
        compile.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        compile.arguments = ["cc", "-shared", "-fPIC", "-fvisibility=hidden",
                             "-I", PluginKitTests.repository.appendingPathComponent("Plugins/include").path,
                             "-o", library.path, source.path]
        try compile.run()
        compile.waitUntilExit()
        XCTAssertEqual(compile.terminationStatus, 0)
        let run = try convene(["plugin", "test", library.path, "-e", "storage"])
        XCTAssertEqual(run.status, 2)
        XCTAssertTrue(run.err.contains("\(library.path): cannot be loaded: built with Swift 5.9; this server runs Swift 6."), run.err)
        XCTAssertTrue(run.err.contains("rebuild the plugin with the server's toolchain"), run.err)
    }

    func testPluginNewRefusesWhatItCannotWrite() throws {
        let folder = try temporaryFolder()
        let badName = try convene(["plugin", "new", "Vote_Tally", "--lang", "c", "--sdk", folder.path], in: folder)
        XCTAssertEqual(badName.status, 64)
        XCTAssertTrue(badName.err.contains("NAME: lowercase letters, digits and single '-'"), badName.err)
        let noSDK = try convene(["plugin", "new", "vote-tally", "--lang", "c", "--sdk", "nowhere"], in: folder)
        XCTAssertTrue(noSDK.err.contains("\(folder.path)/nowhere holds no Convene plugin SDK"), noSDK.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("vote-tally").path))
        let sdk = folder.appendingPathComponent("sdk/include/convene")
        try FileManager.default.createDirectory(at: sdk, withIntermediateDirectories: true)
        try "".write(to: sdk.appendingPathComponent("convene_plugin.h"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("taken/src"), withIntermediateDirectories: true)
        let taken = try convene(["plugin", "new", "vote-tally", "--lang", "c", "--sdk", "sdk", "--dir", "taken"], in: folder)
        XCTAssertTrue(taken.err.contains("\(folder.path)/taken exists and is not empty"), taken.err)
        let written = try convene(["plugin", "new", "vote-tally", "--lang", "c", "--sdk", "sdk"], in: folder)
        XCTAssertEqual(written.status, 0, written.err)
        let makefile = try String(contentsOf: folder.appendingPathComponent("vote-tally/Makefile"), encoding: .utf8)
        XCTAssertTrue(makefile.contains("CONVENE_SDK ?= \(folder.path)/sdk\n"), makefile)
        XCTAssertTrue(makefile.contains("\n\t$(CC) $(CFLAGS) -shared -o $@"), "recipes start with a tab")
    }

    /// Registers a Council member with the administrator's credential and writes its token to
    /// a file in `folder`; returns the file.
    func memberToken(_ admin: [String], in folder: URL) throws -> URL {
        func field(_ name: String, of json: String) -> String? {
            guard let range = json.range(of: "\"\(name)\":\"") else { return nil }
            return String(json[range.upperBound...].prefix { $0 != "\"" })
        }
        let party = try convene(admin + ["call", "convene.admin.v1.Administration/RegisterParty",
                                         "-d", #"{"name": "Aurelia", "kind": "MEMBER_STATE", "roles": ["COUNCIL_MEMBER"]}"#])
        let id = try XCTUnwrap(field("id", of: party.out), party.err)
        let issued = try convene(admin + ["call", "convene.admin.v1.Administration/IssueCredential",
                                          "-d", #"{"partyId": "\#(id)", "label": "test"}"#])
        let token = try XCTUnwrap(field("token", of: issued.out), issued.err)
        let file = folder.appendingPathComponent("member.token")
        try token.write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    func testLoadReloadUnloadAndEventsAgainstARealServer() throws {
        let plugins = try temporaryFolder()
        let data = try temporaryFolder()
        let port = unusedLocalPort()
        let server = Process()
        server.executableURL = binDirectory.appendingPathComponent("convened")
        server.arguments = ["--host", "127.0.0.1", "--port", "\(port)", "--grpc-port", "0", "--data-dir", data.path,
                            "--plugins-dir", plugins.path, "--shutdown-grace", "2"]
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { if server.isRunning { server.terminate(); server.waitUntilExit() } }
        let target = ["--target", "127.0.0.1:\(port)"]
        XCTAssertEqual(try convene(target + ["health", "--wait", "30"]).status, 0)
        let admin = target + ["--token-file", data.appendingPathComponent("admin.token").path]
        // The administrator calls no plugin method: a Council member does.
        let member = target + ["--token-file", try memberToken(admin, in: data).path]

        try FileManager.default.createDirectory(at: plugins.appendingPathComponent("b"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: template, to: plugins.appendingPathComponent("libexample.so"))
        try FileManager.default.copyItem(at: template, to: plugins.appendingPathComponent("b/libexample.so"))

        // A relative path is the caller's working directory's.
        let load = try convene(admin + ["plugins", "load", "libexample.so"], in: plugins)
        XCTAssertEqual(load.status, 0, load.err)
        XCTAssertTrue(load.out.hasPrefix("example 0.1.0 (ABI 1.3) serving, process\n  file \(plugins.resolvingSymlinksInPath().path)/libexample.so\n"), load.out)
        let anonymous = try convene(target + ["plugins", "load", "libexample.so"], in: plugins)
        XCTAssertTrue(anonymous.err.hasPrefix("UNAUTHENTICATED: "), anonymous.err)

        // Its descriptor set: describe, call and bench know its messages.
        let describe = try convene(admin + ["describe", "convene.example.v1.Example"])
        XCTAssertTrue(describe.out.contains("  rpc Echo(convene.example.v1.EchoRequest) returns (convene.example.v1.EchoResponse);\n"), describe.out)
        let call = try convene(member + ["call", "convene.example.v1.Example/Hello", "-d", #"{"name": "ada"}"#])
        XCTAssertEqual(call.out, "{\"name\":\"ada\"}\n", call.err)
        let refused = try convene(admin + ["call", "convene.example.v1.Example/Hello", "-d", #"{"name": "ada"}"#])
        XCTAssertTrue(refused.err.hasPrefix("PERMISSION_DENIED: the administrator's credential administers"), refused.err)
        let bench = try convene(member + ["bench", "--path", "/convene.example.v1.Example/Echo", "--requests", "50",
                                         "--warmup", "0", "--concurrency", "4"])
        XCTAssertEqual(bench.status, 0, bench.err + bench.out)

        // Reloading from a path outside the plugin directories leaves the plugin as it was.
        let outside = try convene(admin + ["plugins", "reload", "example", template.path])
        XCTAssertTrue(outside.err.hasPrefix("PERMISSION_DENIED: \(template.path): plugins are loaded only from \(plugins.path)"), outside.err)
        XCTAssertTrue(try convene(admin + ["plugins"]).out.contains("  file \(plugins.resolvingSymlinksInPath().path)/libexample.so\n"))
        let unknown = try convene(admin + ["plugins", "reload", "nobody", "b/libexample.so"], in: plugins)
        XCTAssertEqual(unknown.err, "NOT_FOUND: no plugin named 'nobody' is loaded\n")

        let moved = try convene(admin + ["plugins", "reload", "example", "b/libexample.so"], in: plugins)
        XCTAssertEqual(moved.status, 0, moved.err)
        XCTAssertTrue(moved.out.contains("  file \(plugins.resolvingSymlinksInPath().path)/b/libexample.so\n"), moved.out)
        XCTAssertEqual(try convene(member + ["call", "convene.example.v1.Example/Hello", "-d", #"{"name": "bo"}"#]).out, "{\"name\":\"bo\"}\n")

        XCTAssertEqual(try convene(admin + ["plugins", "unload", "example"]).out, "unloaded example\n")
        let again = try convene(admin + ["plugins", "unload", "example"])
        XCTAssertEqual(again.status, 2)
        XCTAssertEqual(again.err, "NOT_FOUND: no plugin named 'example' is loaded\n")
        let gone = try convene(admin + ["call", "convene.example.v1.Example/Hello"])
        XCTAssertTrue(gone.err.hasPrefix("UNIMPLEMENTED: "), gone.err)

        let events = try convene(target + ["plugins", "events"])
        XCTAssertEqual(events.status, 0, events.err)
        let rows = events.out.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).first.map(String.init) ?? "" }
        XCTAssertEqual(rows.first, "KIND")
        XCTAssertTrue(rows.contains("meeting.convened") && rows.contains("mandate.updated"), events.out)
        XCTAssertTrue(events.out.contains("the meeting (mtg-N)"), events.out)
    }
}
