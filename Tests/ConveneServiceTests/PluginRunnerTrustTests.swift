import ConveneClient
@testable import ConvenePluginHost
import ConveneProtos
import ConveneRPC
import Foundation
import NIOCore
import XCTest

/// A runner process is the plugin's: its code can stop reading its connection, write forged
/// messages on it, or never get ready. None of that holds a network event loop, grows the
/// server, or hangs a load; the process is ended (and restarted), naming why.
final class PluginRunnerTrustTests: PluginTestCase {
    override class var isolation: PluginIsolation { .process }
    private let faults = "/test.faults.Faults/"

    private func raw(_ method: String, _ bytes: [UInt8] = [], timeout: Duration? = .seconds(20)) async throws -> [UInt8] {
        try await PluginFaultTests.raw(f.client, token: f.tokens["Troops"]!, faults + method, bytes, timeout: timeout)
    }

    /// A test.faults.Reply whose text is `count` bytes.
    private func reply(ofSize count: Int) -> [UInt8] {
        var bytes: [UInt8] = [0x0A]
        var length = count
        while length >= 0x80 {
            bytes.append(UInt8(length & 0x7F) | 0x80)
            length >>= 7
        }
        bytes.append(UInt8(length))
        return bytes + [UInt8](repeating: 0x61, count: count)
    }

    /// The plugin answers again (after its restart's backoff).
    private func assertServesAgain(file: StaticString = #filePath, line: UInt = #line) async throws {
        let served = await eventually(timeout: .seconds(20)) {
            (try? await self.raw("Reflect", faultsReply(text: "ok"))) == faultsReply(text: "ok")
        }
        XCTAssertTrue(served, "the plugin answers again after its restart", file: file, line: line)
        let health = try await f.client.health.check().status
        XCTAssertEqual(health, .serving, file: file, line: line)
    }

    /// Whether a runner process of `library` is stopped (its state in /proc is T).
    static func aRunnerIsStopped(library: String) -> Bool {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.contains { entry in
            guard Int32(entry) != nil, let command = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"),
                  String(decoding: command, as: UTF8.self).contains(library),
                  let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let end = stat.lastIndex(of: ")") else { return false }
            return stat[stat.index(after: end)...].split(separator: " ").first == "T"
        }
    }

    func testAPluginThatStopsReadingHoldsNoEventLoopAndIsEnded() async throws {
        _ = try await f.loadPlugin(f.fixture("Faults"))
        let client: ConveneClient = f.client
        let token: String = f.tokens["Troops"]!
        let path = faults
        // The plugin's process stops (SIGSTOP): it reads nothing more.
        let stalled = Task { @Sendable in try await PluginFaultTests.raw(client, token: token, path + "Stall", [], timeout: .seconds(30)) }
        let library = f.fixture("Faults")
        let stopped = await eventually(timeout: .seconds(20)) { Self.aRunnerIsStopped(library: library) }
        XCTAssertTrue(stopped, "the runner stopped itself")
        // Calls with large requests, on the same connection, more than the socket holds.
        let big = reply(ofSize: 512 << 10)
        let calls = (0..<6).map { _ in
            Task { @Sendable in try await PluginFaultTests.raw(client, token: token, path + "Reflect", big, timeout: .seconds(30)) }
        }
        // The connection's event loop is not held: other calls on it are answered at once.
        for _ in 0..<5 {
            let started = ContinuousClock.now
            let health = try await f.client.health.check().status
            XCTAssertEqual(health, .serving)
            XCTAssertLessThan(ContinuousClock.now - started, .seconds(4), "the event loop answers while the plugin reads nothing")
            try await Task.sleep(for: .milliseconds(200))
        }
        // Within its stall limit (5 s) the process is ended; its calls fail naming why.
        await assertRPCError(.unavailable, containing: "took none of the server's messages") { try await stalled.value }
        for call in calls {
            await assertRPCError(.unavailable) { try await call.value }
        }
        try await assertServesAgain()
        let echoed = try await raw("Reflect", big)
        XCTAssertEqual(echoed, big, "after its restart, large requests go through")
    }

    func testForgedRunnerMessagesPastTheHostLimitsEndThePluginsProcess() async throws {
        _ = try await f.loadPlugin(f.fixture("Faults"))
        let long = String(repeating: "x", count: HostLimits.maxEventText + 1)
        let forged: [(RunnerMessage, String)] = [
            (.log(level: 1, message: long), "logged \(long.utf8.count) bytes at once"),
            (.done(id: 1, status: 0, response: nil, error: long), "an error message of \(long.utf8.count) bytes"),
            (.request(id: 1, call: 1, .emit(PluginEvent(subjectID: "op-1", kind: String(repeating: "k", count: 201), description: ""))),
             "an event's kind of 201 bytes"),
            (.request(id: 1, call: 1, .maySee(String(repeating: "9", count: 101))), "an object id of 101 bytes"),
            (.write(call: 1, key: [UInt8](repeating: 1, count: HostLimits.maxKey + 1), value: [1]), "wrote a key of \(HostLimits.maxKey + 1) bytes"),
        ]
        for (message, reason) in forged {
            var frame = ByteBuffer()
            message.write(to: &frame)
            await assertRPCError(.unavailable, containing: reason) {
                try await self.raw("Forge", Array(buffer: frame))
            }
            try await assertServesAgain()
        }
    }

    /// On a server restarted with `isolation` and a 1 s ready timeout, loading the faults
    /// fixture (whose entry point hangs: the caller sets its variable) is refused with
    /// `refusal` within seconds, and the server serves.
    private func assertAHangingEntryIsGivenUp(isolation: PluginIsolation, refusal: String) async throws {
        await f.server.shutDown()
        f.configure = { $0.pluginIsolation = isolation; $0.pluginReadyTimeout = .seconds(1) }
        try await f.startServer(port: f.port)
        let started = ContinuousClock.now
        await assertRPCError(.failedPrecondition, containing: refusal) {
            try await self.f.loadPlugin(self.f.fixture("Faults"))
        }
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(10))
        let health = try await f.client.health.check().status
        XCTAssertEqual(health, .serving)
    }

    /// In process too: an entry point that never returns is given up at the ready timeout (its
    /// thread left behind), and the server serves, other plugins loading.
    func testAnInProcessEntryPointThatNeverReturnsIsGivenUpAtTheReadyTimeout() async throws {
        setenv("CONVENE_PLUGIN_FAULTS_HANG_AT_ENTRY", "1", 1)
        defer { unsetenv("CONVENE_PLUGIN_FAULTS_HANG_AT_ENTRY") }
        try await assertAHangingEntryIsGivenUp(isolation: .inProcess, refusal: "its entry point did not return within 1.0 seconds")
        _ = try await f.loadPlugin(f.fixture("Behaviour"))
        let echoed = try await PluginFaultTests.raw(f.client, token: f.tokens["Troops"]!, "/test.Behaviour/Echo", [7], timeout: .seconds(20))
        XCTAssertEqual(echoed, [7])
    }

    func testARunnerNeverReadyIsEndedAtItsReadyTimeoutAndTheServerServes() async throws {
        setenv("CONVENE_PLUGIN_FAULTS_HANG_AT_ENTRY", "1", 1)
        defer { unsetenv("CONVENE_PLUGIN_FAULTS_HANG_AT_ENTRY") }
        try await assertAHangingEntryIsGivenUp(isolation: .process, refusal: "the plugin was not ready within 1.0 seconds")
        unsetenv("CONVENE_PLUGIN_FAULTS_HANG_AT_ENTRY")
        _ = try await f.loadPlugin(f.fixture("Faults"))
        let echoed = try await raw("Reflect", faultsReply(text: "ok"))
        XCTAssertEqual(echoed, faultsReply(text: "ok"))
    }
}
