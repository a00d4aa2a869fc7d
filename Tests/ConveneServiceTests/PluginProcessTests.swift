import ConveneClient
import ConvenePluginHost
import ConveneProtos
import ConveneRPC
import ConveneServer
import ConveneTransport
import Foundation
import NIOCore
import SwiftProtobuf
import XCTest

/// What process isolation adds: a plugin that crashes (NULL dereference, abort), crashes in
/// its entry point, leaks, or leaves too many hooks stuck is ended and restarted with
/// backoff, its calls in flight fail with UNAVAILABLE naming it, and the server and every
/// other plugin serve on.
final class PluginProcessTests: PluginTestCase {
    override class var isolation: PluginIsolation { .process }

    func raw(_ path: String, _ bytes: [UInt8] = [], timeout: Duration? = .seconds(20)) async throws -> [UInt8] {
        try await PluginFaultTests.raw(f.client, token: f.tokens["Troops"]!, path, bytes, timeout: timeout)
    }

    func reflect() async throws -> [UInt8] {
        try await raw("/test.faults.Faults/Reflect", faultsReply(text: "ok"))
    }

    func faultsInfo() async throws -> Convene_Plugins_V1_PluginInfo? {
        try await f.client.unary(PM.listPlugins, Convene_Plugins_V1_ListPluginsRequest(),
                                 as: Convene_Plugins_V1_ListPluginsResponse.self, options: f.options("Troops"))
            .plugins.first { $0.name == "faults" }
    }

    /// Restarts the server with its plugins isolated and `configure` applied, loads the
    /// Faults fixture, and gives a client and a party's token to call it with.
    func restartWithFaults(_ configure: @escaping (inout ServerConfiguration) -> Void) async throws
        -> (client: ConveneClient, token: String) {
        await f.server.shutDown()
        f.configure = {
            $0.pluginIsolation = .process
            configure(&$0)
        }
        try await f.startServer(port: f.port)
        _ = try await f.loadPlugin(f.fixture("Faults"))
        return (f.client, f.tokens["Troops"]!)
    }

    /// Another plugin, a built-in method and overall health serve.
    func assertOthersServe(file: StaticString = #filePath, line: UInt = #line) async throws {
        let groups = try await f.call("convene.friends.v1.GroupsOfFriends", "ListGroups", Convene_Friends_V1_ListGroupsRequest(),
                                      as: Convene_Friends_V1_ListGroupsResponse.self, by: "Troops")
        XCTAssertEqual(groups.groups.count, 0, file: file, line: line)
        let health = try await f.client.health.check().status
        XCTAssertEqual(health, .serving, file: file, line: line)
    }

    func isolation(of name: String) async throws -> String? {
        try await f.client.unary(PM.listPlugins, Convene_Plugins_V1_ListPluginsRequest(),
                                 as: Convene_Plugins_V1_ListPluginsResponse.self, options: f.options("Troops"))
            .plugins.first { $0.name == name }?.isolation
    }

    func testByDefaultThePluginsBuiltWithTheServerRunInItAndOtherLibrariesIsolated() async throws {
        await f.server.shutDown()
        f.configure = { $0.pluginIsolation = nil }
        try await f.startServer(port: f.port)
        let friends = try await isolation(of: "groups-of-friends")
        XCTAssertEqual(friends, "in-process")
        let behaviour = try await f.loadPlugin(f.fixture("Behaviour"))
        XCTAssertEqual(behaviour.isolation, "process", "a library not built with the server")

        // Per plugin (by its name) or per library file, either way.
        await f.server.shutDown()
        f.configure = {
            $0.pluginIsolation = nil
            $0.pluginIsolationOverrides = ["groups-of-friends": .process, "libConveneFixture_Behaviour.so": .inProcess]
        }
        try await f.startServer(port: f.port)
        let isolatedFriends = try await isolation(of: "groups-of-friends")
        XCTAssertEqual(isolatedFriends, "process")
        let msc = try await isolation(of: "military-staff-committee")
        XCTAssertEqual(msc, "in-process")
        let trusted = try await f.loadPlugin(f.fixture("Behaviour"))
        XCTAssertEqual(trusted.isolation, "in-process")
    }

    func testACrashFailsThatPluginsCallsInFlightAndItIsRestarted() async throws {
        let info = try await f.loadPlugin(f.fixture("Faults"))
        XCTAssertEqual(info.isolation, "process")
        let client: ConveneClient = f.client
        let token: String = f.tokens["Troops"]!
        for (method, signal) in [("Crash", "signal 11"), ("Abort", "signal 6")] {
            // A call of the same plugin in flight when it crashes fails too.
            let inFlight = Task { @Sendable in
                try await PluginFaultTests.raw(client, token: token, "/test.faults.Faults/Hang", [0x10, 0x27, 0, 0], timeout: .seconds(20))
            }
            let started = await f.untilInFlight("faults")
            XCTAssertTrue(started)
            await assertRPCError(.unavailable, containing: "plugin faults: its process ended during the call (\(signal)") {
                try await self.raw("/test.faults.Faults/\(method)")
            }
            await assertRPCError(.unavailable, containing: signal) { try await inFlight.value }
            try await assertOthersServe()
            // Restarted (with backoff): it serves again, and what it stored is still there.
            let back = try await eventually { try? await self.reflect() }
            XCTAssertEqual(back, faultsReply(text: "ok"))
        }
        let serving = try await eventually { () -> Bool? in try await self.faultsInfo()?.status == .serving ? true : nil }
        XCTAssertEqual(serving, true, "no longer degraded once restarted")
    }

    /// A call that the next start of a crashed plugin would not serve within its deadline fails
    /// at once (UNAVAILABLE, which a client may retry), not at its deadline.
    func testACallTheRestartWouldNotServeInTimeFailsAtOnce() async throws {
        _ = try await f.loadPlugin(f.fixture("Faults"))
        var told: String?
        // The crash's own answer says the restart is due in 100 ms or more; a call with a 20 ms
        // deadline made at once is refused (a slow machine may be past it: try a few times).
        for _ in 0..<5 where told == nil {
            await assertRPCError(.unavailable) { try await self.raw("/test.faults.Faults/Crash") }
            do {
                _ = try await PluginFaultTests.raw(f.client, token: f.tokens["Troops"]!, "/test.faults.Faults/Reflect",
                                                   faultsReply(text: "ok"), timeout: .milliseconds(20))
            } catch {
                let refusal = RPCError.from(error)
                if refusal.code == .unavailable { told = refusal.message }
            }
            _ = try await eventually { try? await self.reflect() }
        }
        XCTAssertTrue(told?.contains("plugin faults is not running (restarting: its process ended") == true
                      && told?.contains("its next start is due after this call's deadline") == true, told ?? "never refused at once")
    }

    /// A child the plugin forked keeps the runner's connection open after the runner crashed:
    /// the server sees the end of the process itself, not only of its connection; and the
    /// child ends with its runner (their process group is ended whole), not 8 s later.
    func testACrashIsSeenWhileAChildOfThePluginHoldsItsConnection() async throws {
        let library = f.fixture("Faults")
        _ = try await f.loadPlugin(library)
        let client: ConveneClient = f.client
        let token: String = f.tokens["Troops"]!
        // The child lives 8 s on; the call would end at its 6 s deadline if the crash were missed.
        await assertRPCError(.unavailable, containing: "its process ended during the call (signal 11") {
            _ = try await PluginFaultTests.raw(client, token: token, "/test.faults.Faults/Crash", [0x40, 0x1F, 0, 0],
                                               timeout: .seconds(6))
        }
        let back = try await eventually { try? await self.reflect() }
        XCTAssertEqual(back, faultsReply(text: "ok"))
        let orphansGone = await eventually(timeout: .seconds(2)) { Self.orphanedRunnerProcesses(of: library).isEmpty }
        XCTAssertTrue(orphansGone, "the crashed runner's child lives on: \(Self.orphanedRunnerProcesses(of: library))")
    }

    /// Processes running `library` in a runner that this test process did not start (a child
    /// a runner forked, left behind by its runner).
    static func orphanedRunnerProcesses(of library: String) -> [Int32] {
        let me = getpid()
        return ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { entry -> Int32? in
            guard let pid = Int32(entry), pid != me,
                  let command = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"),
                  String(decoding: command, as: UTF8.self).contains(library),
                  let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 1, fields[0] != "Z", let parent = Int32(fields[1]) else { return nil }
            return parent == me ? nil : pid
        }
    }

    func testACrashInTheEntryPointMarksThePluginFailedAndTheServerStartsAnyway() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("convene-plugins-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for name in ["CrashingEntry", "Behaviour"] {
            try FileManager.default.copyItem(atPath: f.fixture(name), toPath: folder.appendingPathComponent("lib\(name).so").path)
        }
        await f.server.shutDown()
        f.configure = { $0.pluginDirectories = [folder.path]; $0.pluginIsolation = .process }
        try await f.startServer(port: f.port)

        let list = try await f.client.unary(PM.listPlugins, Convene_Plugins_V1_ListPluginsRequest(),
                                            as: Convene_Plugins_V1_ListPluginsResponse.self, options: f.options("Troops"))
        XCTAssertEqual(list.plugins.map(\.name), ["behaviour"], "the other plugin serves")
        let failure = try XCTUnwrap(list.failures.first)
        XCTAssertEqual(failure.library, "libCrashingEntry.so")
        XCTAssertEqual(failure.file, "", "the file on the server is for administrators")
        XCTAssertTrue(failure.reason.contains("ended before the plugin was ready (signal 11"), failure.reason)
        let echoed = try await raw("/test.Behaviour/Echo", [4])
        XCTAssertEqual(echoed, [4])
        // Loading it again reports the same, and the server carries on.
        await assertRPCError(.failedPrecondition, containing: "signal 11") {
            try await self.f.loadPlugin(folder.appendingPathComponent("libCrashingEntry.so").path)
        }
        let health = try await f.client.health.check().status
        XCTAssertEqual(health, .serving)
    }

    func testALeakingPluginIsEndedAtItsMemoryLimitAndRestarted() async throws {
        let (client, token) = try await restartWithFaults { $0.pluginMemoryLimit = 160 << 20 }
        let inFlight = Task { @Sendable in
            try await PluginFaultTests.raw(client, token: token, "/test.faults.Faults/Hang", [0x10, 0x27, 0, 0], timeout: .seconds(20))
        }
        let started = await f.untilInFlight("faults")
        XCTAssertTrue(started)
        // 64 MiB at a time, kept: past 160 MiB the server ends the process (bounded: 20 calls).
        var ended: RPCError?
        for _ in 0..<20 where ended == nil {
            do {
                _ = try await raw("/test.faults.Faults/Leak", [64])
            } catch let error as RPCError {
                ended = error
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let stopped = await assertRPCError(.unavailable, containing: "over its memory limit of 160 MiB") { try await inFlight.value }
        XCTAssertNotNil(stopped)
        try await assertOthersServe()
        let back = try await eventually { try? await self.reflect() }
        XCTAssertEqual(back, faultsReply(text: "ok"), "restarted with its memory back")
    }

    func testAProcessWithTooManyHooksStuckIsEndedWhichFreesThemAll() async throws {
        let (client, token) = try await restartWithFaults { $0.pluginMaxStuck = 4 }
        // Six hooks of 60 s, each abandoned at its 2 s deadline (time for the new process to start them).
        let hung = (0..<6).map { _ in
            Task { @Sendable in
                try await PluginFaultTests.raw(client, token: token, "/test.faults.Faults/Hang", [0x60, 0xEA, 0, 0],
                                               timeout: .seconds(2))
            }
        }
        for call in hung { await assertRPCError(.deadlineExceeded) { try await call.value } }
        // The server ends the process (the hooks with it) and starts it again; then it serves, not degraded.
        let restarted = try await eventually { () -> Bool? in
            guard let info = try await self.faultsInfo(), info.status == .serving,
                  (try? await self.reflect()) != nil else { return nil }
            return true
        }
        XCTAssertEqual(restarted, true)
        try await assertOthersServe()
    }

    /// A call abandoned while it waits in the runner behind a hook (its hook never ran) is
    /// ended there too: it is never left counted as stuck, so its plugin is not degraded for it.
    func testACallAbandonedWhileQueuedInTheRunnerIsNotLeftStuck() async throws {
        let (client, token) = try await restartWithFaults { $0.pluginConcurrency = 1 }
        // A hook of 3 s holds the plugin's one thread, well within its deadline.
        let holder = Task { @Sendable in
            try await PluginFaultTests.raw(client, token: token, "/test.faults.Faults/Hang", [0xB8, 0x0B, 0, 0], timeout: .seconds(20))
        }
        let started = await f.untilInFlight("faults")
        XCTAssertTrue(started)
        // Queued behind it, a call abandoned at its 300 ms deadline.
        await assertRPCError(.deadlineExceeded) {
            _ = try await PluginFaultTests.raw(client, token: token, "/test.faults.Faults/Hang", [1, 0, 0, 0], timeout: .milliseconds(300))
        }
        // Past the grace for stuck calls (500 ms), while the first hook still runs: nothing is stuck.
        try await Task.sleep(for: .seconds(1))
        let info = try await faultsInfo()
        XCTAssertEqual(info?.status, .serving, "\(info?.statusReason ?? "")")
        _ = try await holder.value
        try await assertOthersServe()
    }

    /// The runner's reader runs short hooks itself; a hook of the same plugin that then hangs,
    /// or waits for the server (storage), holds up none of the calls after it.
    func testCallsAfterAHungHookOfTheSamePluginAreReadAndAnswered() async throws {
        _ = try await f.loadPlugin(f.fixture("Behaviour"))
        let client: ConveneClient = f.client
        let token: String = f.tokens["Troops"]!
        // Bursts of pure, microsecond hooks: the runner learns that they are short.
        for _ in 0..<10 {
            try await withThrowingTaskGroup(of: [UInt8].self) { group in
                for _ in 0..<32 { group.addTask { try await PluginFaultTests.raw(client, token: token, "/test.Behaviour/Caller", [], timeout: .seconds(20)) } }
                for try await answer in group { XCTAssertFalse(answer.isEmpty) }
            }
        }
        let clock = ContinuousClock()
        let start = clock.now
        // 4 s of hanging, abandoned at its 6 s deadline at the latest.
        let hung = Task { @Sendable in
            try await PluginFaultTests.raw(client, token: token, "/test.Behaviour/Hang", [0xA0, 0x0F, 0, 0], timeout: .seconds(6))
        }
        try await Task.sleep(for: .milliseconds(100))
        for round in 0..<5 {
            try await withThrowingTaskGroup(of: [UInt8].self) { group in
                for _ in 0..<8 { group.addTask { try await PluginFaultTests.raw(client, token: token, "/test.Behaviour/Caller", [], timeout: .seconds(2)) } }
                // Echo stores a count: a host function, whose reply the reader reads.
                group.addTask { try await PluginFaultTests.raw(client, token: token, "/test.Behaviour/Echo", [UInt8(round)], timeout: .seconds(2)) }
                var answers = 0
                for try await _ in group { answers += 1 }
                XCTAssertEqual(answers, 9)
            }
        }
        XCTAssertLessThan(clock.now - start, .seconds(4), "the calls were answered while the hook hung")
        let echoed = try await hung.value
        XCTAssertEqual(echoed, [0xA0, 0x0F, 0, 0])
        let count = try await raw("/test.Behaviour/Count")
        XCTAssertEqual(count, [0x80, 0x84, 0x1E, 0, 0, 0, 0, 0], "the hung hook committed its write last (2000000)")
        try await assertOthersServe()
    }
}
