import ConveneClient
import ConveneProtos
import ConveneRPC
import ConveneTransport
import Foundation
import NIOCore
import SwiftProtobuf
import XCTest

/// Plugins that misbehave, in the server's process: hung calls starve nobody else and
/// degrade only their plugin; what a plugin hands back is checked; a replaced library file
/// touches nothing loaded; shutdown does not wait for stuck hooks. After each, the server
/// and other plugins serve. (Crashes and leaks need process isolation: PluginIsolationTests.)
class PluginFaultTests: PluginTestCase {
    func raw(_ path: String, _ bytes: [UInt8] = [], timeout: Duration? = .seconds(20)) async throws -> [UInt8] {
        try await Self.raw(f.client, token: f.tokens["Troops"]!, path, bytes, timeout: timeout)
    }

    /// The Faults fixture's methods take a test.faults.Raw, whose field 1 carries `bytes` (the
    /// host checks a request against its declared type before the plugin runs).
    static func raw(_ client: ConveneClient, token: String, _ path: String, _ bytes: [UInt8],
                    timeout: Duration?) async throws -> [UInt8] {
        let request = path.hasPrefix("/test.faults.") && !bytes.isEmpty ? lengthDelimited(field: 1, bytes) : bytes
        return Array(buffer: try await client.unary(path: path, request: ByteBuffer(bytes: request),
                                                    options: .bearer(token, timeout: timeout)).message)
    }

    /// Field `field` of a message, length-delimited, holding `bytes`.
    static func lengthDelimited(field: Int, _ bytes: [UInt8]) -> [UInt8] {
        var encoded: [UInt8] = [UInt8(field << 3 | 2)]
        var length = bytes.count
        while length >= 0x80 {
            encoded.append(UInt8(length & 0x7F) | 0x80)
            length >>= 7
        }
        encoded.append(UInt8(length))
        return encoded + bytes
    }

    func plugin(_ name: String) async throws -> Convene_Plugins_V1_PluginInfo? {
        try await f.client.unary(PM.listPlugins, Convene_Plugins_V1_ListPluginsRequest(),
                                 as: Convene_Plugins_V1_ListPluginsResponse.self, options: f.options("Troops"))
            .plugins.first { $0.name == name }
    }

    func health(_ service: String) async throws -> Convene_Health_V1_HealthCheckResponse.ServingStatus {
        try await f.client.health.check(service: service).status
    }

    /// Another plugin and a built-in method still answer.
    func assertOthersServe(file: StaticString = #filePath, line: UInt = #line) async throws {
        let groups = try await f.call("convene.friends.v1.GroupsOfFriends", "ListGroups", Convene_Friends_V1_ListGroupsRequest(),
                                      as: Convene_Friends_V1_ListGroupsResponse.self, by: "Troops")
        XCTAssertEqual(groups.groups.count, 0, file: file, line: line)
        let health = try await health("")
        XCTAssertEqual(health, .serving, file: file, line: line)
    }

    func testHungCallsStarveNoOneAndDegradeOnlyTheirPlugin() async throws {
        _ = try await f.loadPlugin(f.fixture("Behaviour"))
        let client: ConveneClient = f.client
        let token: String = f.tokens["Troops"]!
        // More hung calls than the plugin has threads and may leave stuck: 5 s each, 1 s deadlines.
        let hung = (0..<24).map { _ in
            Task { @Sendable in
                try await Self.raw(client, token: token, "/test.Behaviour/Hang", [0x88, 0x13, 0, 0], timeout: .seconds(1))
            }
        }
        for call in hung {
            await assertRPCError(.deadlineExceeded) { try await call.value }
        }
        // Past their deadline they hold nothing others need: other plugins, built-in methods.
        try await assertOthersServe()
        let degraded = try await eventually { () -> Convene_Plugins_V1_PluginInfo? in
            let info = try await self.plugin("behaviour")
            return info?.status == .degraded ? info : nil
        }
        XCTAssertTrue(degraded?.statusReason.contains("stuck past their deadline") ?? false, degraded?.statusReason ?? "not degraded")
        let serviceHealth = try await health("test.Behaviour")
        XCTAssertEqual(serviceHealth, .notServing)
        let friendsHealth = try await health("convene.friends.v1.GroupsOfFriends")
        XCTAssertEqual(friendsHealth, .serving)
        // The plugin itself still has threads for new calls (isolated, once its process, ended
        // for having as many hooks stuck as it may, is back: a call it had in flight then failed).
        let echoed = try await eventually { try? await self.raw("/test.Behaviour/Echo", [5]) }
        XCTAssertEqual(echoed, [5])
        // Once the hooks return (or, isolated, its process is restarted), it serves again.
        let recovered = try await eventually { () -> Bool? in try await self.plugin("behaviour")?.status == .serving ? true : nil }
        XCTAssertEqual(recovered, true)
        let serviceAgain = try await health("test.Behaviour")
        XCTAssertEqual(serviceAgain, .serving)
        let count = try await raw("/test.Behaviour/Count")
        XCTAssertEqual(count, [1, 0, 0, 0, 0, 0, 0, 0], "no abandoned call committed")
    }

    func testARequestAPluginWouldNotParseNeverReachesIt() async throws {
        _ = try await f.loadPlugin(f.fixture("Faults"))
        let reflect = "/test.faults.Faults/Reflect"
        let client = f.client!, token = f.tokens["Troops"]!
        func send(_ bytes: [UInt8]) async throws -> [UInt8] {
            Array(buffer: try await client.unary(path: reflect, request: ByteBuffer(bytes: bytes),
                                                 options: .bearer(token, timeout: .seconds(20))).message)
        }
        // A test.faults.Raw whose bytes the fixture answers as they are.
        let valid = faultsReply(text: "fine")
        var answered = try await send(PluginFaultTests.lengthDelimited(field: 1, valid))
        XCTAssertEqual(answered, valid)
        for (bytes, problem) in [([UInt8]([0x0A, 0x05, 0x41]), "field 1 is cut off"),
                                 ([0x08, 0x01], "field 1 of test.faults.Raw is declared bytes but has wire type 0"),
                                 ([0x17, 0x01], "field 2 has wire type 7, which protobuf does not have")] {
            await assertRPCError(.invalidArgument, containing: "the request is not a valid test.faults.Raw (\(problem)") {
                try await send(bytes)
            }
        }
        // The plugin still serves.
        answered = try await send(PluginFaultTests.lengthDelimited(field: 1, valid))
        XCTAssertEqual(answered, valid)

        // Fields the method's type does not declare (whose texts nobody checks) never reach a
        // plugin: the template's Hello answers its request as it got it.
        _ = try await f.loadPlugin(f.pluginFolder.appendingPathComponent("libConveneTemplatePlugin.so").path)
        let hello = Array(buffer: try await client.unary(
            path: "/convene.example.v1.Example/Hello",
            request: ByteBuffer(bytes: [0x0A, 0x02, 0x68, 0x69, 0x12, 0x04, 0x1B, 0x5B, 0x32, 0x4A, 0x1B, 0x0A, 0x01, 0x07, 0x1C]),
            options: .bearer(token, timeout: .seconds(20))).message)
        XCTAssertEqual(hello, [0x0A, 0x02, 0x68, 0x69], "an unknown field holding ESC[2J and a group holding BEL were dropped")
    }

    func testWhatAPluginHandsBackIsNotTrusted() async throws {
        _ = try await f.loadPlugin(f.fixture("Faults"))
        let faults = "/test.faults.Faults/"
        await assertRPCError(.unknown, containing: "plugin faults returned 77 from BadStatus, which is not a status code") {
            try await self.raw(faults + "BadStatus")
        }
        await assertRPCError(.unknown, containing: "-5") { try await self.raw(faults + "BadStatus", [0xFB, 0xFF, 0xFF, 0xFF]) }
        await assertRPCError(.notFound, containing: "a status the plugin made up") { try await self.raw(faults + "BadStatus", [5, 0, 0, 0]) }

        let valid = faultsReply(text: "fine", number: 7)
        let reflected = try await raw(faults + "Reflect", valid)
        XCTAssertEqual(reflected, valid)
        let malformed: [(String, [UInt8])] = [
            ("wire type 7", [0x0F, 0x01]),
            ("a string that is not UTF-8", [0x0A, 0x01, 0xFF]),
            ("cut off", [0x0A, 0x05, 0x41]),
            ("declared string but has wire type 0", [0x1A, 0x02, 0x08, 0x01]),
            ("declared int64 but has wire type 2", [0x12, 0x01, 0x01]),
            ("a varint is cut off", [0x10, 0x80]),
        ]
        for (problem, bytes) in malformed {
            await assertRPCError(.internal, containing: "plugin faults answered Reflect with bytes that are not a valid test.faults.Reply") {
                try await self.raw(faults + "Reflect", bytes)
            }
            await assertRPCError(.internal, containing: problem) { try await self.raw(faults + "Reflect", bytes) }
        }

        // A call handle kept past its hook is refused, not followed.
        let kept = try await raw(faults + "Keep")
        XCTAssertEqual(kept, faultsReply(text: "kept"))
        let used = try await raw(faults + "UseKept")
        XCTAssertEqual(used, faultsReply(text: "put=-1 get=-1 caller=null"))
        try await assertOthersServe()
    }

    func testANewerMinorVersionAndAMissingDescriptorSetLoadWithWarnings() async throws {
        let info = try await f.loadPlugin(f.fixture("NewerMinor"))
        XCTAssertEqual(info.abiVersion, "1.99")
        XCTAssertTrue(info.warnings.contains { $0.contains("1.99") && $0.contains("1.3") }, "\(info.warnings)")
        XCTAssertTrue(info.warnings.contains { $0.contains("no descriptor set") }, "\(info.warnings)")
        let echoed = try await raw("/test.NewerMinor/Echo", [1, 2])
        XCTAssertEqual(echoed, [1, 2])
    }

    /// A Swift plugin's write or event the host refuses throws in the SDK: the call fails,
    /// naming what was refused, and commits none of its writes (it never answers OK with some lost).
    func testASwiftPluginsCallWhoseWriteOrEventIsRefusedFailsWhole() async throws {
        _ = try await f.loadPlugin(f.fixture("VersionA"))
        let overfilled = await assertRPCError(.internal) {
            _ = try await self.f.call("test.Versioned", "Overfill", Google_Protobuf_Empty(), as: Google_Protobuf_Empty.self, by: "Troops")
        }
        XCTAssertTrue(overfilled?.message.contains("storage_put of key 'k/large'") == true, overfilled?.message ?? "")
        let keys = try await f.call("test.Versioned", "Keys", Google_Protobuf_Empty(), as: Google_Protobuf_StringValue.self, by: "Troops")
        XCTAssertEqual(keys.value, "", "the write the host took before is not committed either")
        let operation = try await f.makeOperation()
        let impersonated = await assertRPCError(.internal) {
            _ = try await self.f.call("test.Versioned", "Impersonate", Google_Protobuf_StringValue.with { $0.value = operation },
                                      as: Google_Protobuf_Empty.self, by: "Troops")
        }
        XCTAssertTrue(impersonated?.message.contains("'meeting.convened'") == true, impersonated?.message ?? "")
    }

    func testReplacingALoadedLibraryTouchesNothingAndAReloadServesItsNewCode() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("convene-plugins-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let library = folder.appendingPathComponent("libVersioned.so").path
        try FileManager.default.copyItem(atPath: f.fixture("VersionA"), toPath: library)
        await f.server.shutDown()
        let isolation = Self.isolation
        f.configure = { $0.pluginDirectories = [folder.path]; $0.pluginIsolation = isolation }
        try await f.startServer(port: f.port)

        func which() async throws -> String {
            try await f.call("test.Versioned", "Which", Google_Protobuf_Empty(), as: Google_Protobuf_StringValue.self, by: "Troops").value
        }
        let first = try await which()
        XCTAssertEqual(first, "build A")
        // Written over in place (the same inode, as `cp` does): the loaded code is a copy of its own.
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: library))
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: try Data(contentsOf: URL(fileURLWithPath: f.fixture("VersionB"))))
        try handle.close()
        let during = try await which()
        XCTAssertEqual(during, "build A", "still the loaded code, intact")
        _ = try await f.client.unary(PM.reloadPlugin, Convene_Plugins_V1_ReloadPluginRequest.with { $0.name = "versioned" },
                                     as: Convene_Plugins_V1_PluginInfo.self, options: .bearer(try f.adminToken))
        let after = try await which()
        XCTAssertEqual(after, "build B", "the rebuilt library's code")
        // In-process, the copy is removed once mapped; an isolated plugin keeps one for its restarts.
        let copies = try FileManager.default.contentsOfDirectory(atPath: f.dataDirectory + "/plugin-libraries")
        XCTAssertEqual(copies.count, isolation == .process ? 1 : 0, "\(copies)")
    }

    /// A reload with a path replaces a plugin with a version of itself: a library that is
    /// another plugin (storage and event position of its own) is refused, and the plugin it
    /// would have replaced serves again.
    func testAReloadWithTheLibraryOfAnotherPluginIsRefusedAndThePluginComesBack() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("convene-plugins-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.copyItem(atPath: f.fixture("VersionA"), toPath: folder.appendingPathComponent("libVersioned.so").path)
        let other = folder.appendingPathComponent("libOther.so").path
        try FileManager.default.copyItem(atPath: f.fixture("Behaviour"), toPath: other)
        await f.server.shutDown()
        let isolation = Self.isolation
        f.configure = { $0.pluginDirectories = [folder.path]; $0.pluginIsolation = isolation }
        try await f.startServer(port: f.port)
        _ = try? await f.client.unary(PM.unloadPlugin, Convene_Plugins_V1_UnloadPluginRequest.with { $0.name = "behaviour" },
                                      as: Convene_Plugins_V1_UnloadPluginResponse.self, options: .bearer(try f.adminToken))

        let refused = await assertRPCError(.failedPrecondition) {
            _ = try await self.f.client.unary(PM.reloadPlugin, Convene_Plugins_V1_ReloadPluginRequest.with {
                $0.name = "versioned"; $0.path = other
            }, as: Convene_Plugins_V1_PluginInfo.self, options: .bearer(try self.f.adminToken))
        }
        XCTAssertTrue(refused?.message.contains("is the plugin 'behaviour', not 'versioned'") == true, refused?.message ?? "")
        XCTAssertTrue(refused?.message.contains("versioned was loaded again") == true, refused?.message ?? "")
        let versioned = try await plugin("versioned")
        let behaviour = try await plugin("behaviour")
        XCTAssertNotNil(versioned, "loaded again")
        XCTAssertNil(behaviour, "the other plugin is not left loaded")
        let which = try await f.call("test.Versioned", "Which", Google_Protobuf_Empty(), as: Google_Protobuf_StringValue.self, by: "Troops")
        XCTAssertEqual(which.value, "build A")
    }

    func testShutdownDoesNotWaitForAHungOnUnload() async throws {
        try await checkShutdownDoesNotWaitForAHungOnUnload()
    }

    func testShutdownDoesNotWaitForHungPluginCalls() async throws {
        _ = try await f.loadPlugin(f.fixture("Behaviour"))
        let client: ConveneClient = f.client
        let token: String = f.tokens["Troops"]!
        // 60 s hooks, called without a deadline.
        let hung = (0..<6).map { _ in
            Task { @Sendable in try await Self.raw(client, token: token, "/test.Behaviour/Hang", [0x60, 0xEA, 0, 0], timeout: nil) }
        }
        try await Task.sleep(for: .milliseconds(300))
        let started = ContinuousClock.now
        await f.server.shutDown()  // grace: 200 ms
        let took = ContinuousClock.now - started
        XCTAssertLessThan(took, .seconds(10), "bounded by the grace period, not by the hooks")
        for call in hung { _ = try? await call.value }
    }
}

extension PluginFaultTests {
    /// Shared by both isolation modes (see IsolatedPluginFaultTests).
    func checkShutdownDoesNotWaitForAHungOnUnload() async throws {
        _ = try await f.loadPlugin(f.fixture("Faults"))
        // on_unload will sleep for a minute.
        let set = try await raw("/test.faults.Faults/SlowUnload", [0x60, 0xEA, 0, 0])
        XCTAssertEqual(set, faultsReply(text: "set"))
        let started = ContinuousClock.now
        await f.server.shutDown()  // grace: 200 ms
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(10), "bounded by the grace period, not by on_unload")
    }
}

/// test.faults.Reply (text = 1, number = 2), encoded by hand: the fixture's messages are not
/// generated in Swift. Short texts and small numbers only.
func faultsReply(text: String, number: UInt8 = 0) -> [UInt8] {
    [0x0A, UInt8(text.utf8.count)] + Array(text.utf8) + (number == 0 ? [] : [0x10, number])
}
