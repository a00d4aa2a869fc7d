import ConveneClient
@testable import ConvenePluginHost
import ConveneServer
import Foundation
import XCTest

/// An isolated plugin's process is sandboxed (`--plugin-sandbox`, on by default): a hostile
/// library in it cannot read the server's database or credentials, write on disk, open the
/// server's memory, or signal it. The Faults fixture's Escape tries each and says what came of it.
final class PluginSandboxTests: PluginTestCase {
    override class var isolation: PluginIsolation { .process }

    /// What Escape made of the server's credential file (`admin.token`) and database.
    private func escape(_ file: String) async throws -> String {
        let path = (f.dataDirectory as NSString).appendingPathComponent(file)
        XCTAssertTrue(FileManager.default.fileExists(atPath: path), "the server keeps \(file)")
        let reply = try await PluginFaultTests.raw(f.client, token: f.tokens["Troops"]!, "/test.faults.Faults/Escape",
                                                   Array(path.utf8), timeout: .seconds(20))
        // A test.faults.Reply: field 1 (text), one byte of length.
        XCTAssertGreaterThan(reply.count, 2)
        return String(decoding: reply.dropFirst(2), as: UTF8.self)
    }

    func testAnIsolatedPluginCannotReachTheServersFilesMemoryOrProcess() async throws {
        try XCTSkipIf(RunnerSandbox.landlockABI < 1, "this kernel offers no Landlock")
        _ = try await f.loadPlugin(f.fixture("Faults"))
        for file in ["admin.token", "convene.sqlite"] {
            let outcome = try await escape(file)
            XCTAssertTrue(outcome.hasPrefix("read=EACCES create=EACCES memory=EACCES"), "\(file): \(outcome)")
            if RunnerSandbox.landlockABI >= 6 { XCTAssertTrue(outcome.hasSuffix("signal=EPERM"), "\(file): \(outcome)") }
        }
        // The plugin serves as before, and the server is up.
        let reflected = try await PluginFaultTests.raw(f.client, token: f.tokens["Troops"]!, "/test.faults.Faults/Reflect",
                                                       faultsReply(text: "ok"), timeout: .seconds(20))
        XCTAssertEqual(reflected, faultsReply(text: "ok"))
        let health = try await f.client.health.check().status
        XCTAssertEqual(health, .serving)
    }
}

/// With `--plugin-sandbox off` the same plugin reaches all of it: what the test above shows
/// is the sandbox's doing.
final class PluginSandboxOffTests: PluginTestCase {
    override class var isolation: PluginIsolation { .process }
    override class func configure(_ configuration: inout ServerConfiguration) { configuration.pluginSandbox = .off }

    func testWithoutTheSandboxAnIsolatedPluginReadsTheServersFiles() async throws {
        _ = try await f.loadPlugin(f.fixture("Faults"))
        let path = (f.dataDirectory as NSString).appendingPathComponent("admin.token")
        let reply = try await PluginFaultTests.raw(f.client, token: f.tokens["Troops"]!, "/test.faults.Faults/Escape",
                                                   Array(path.utf8), timeout: .seconds(20))
        let outcome = String(decoding: reply.dropFirst(2), as: UTF8.self)
        XCTAssertTrue(outcome.hasPrefix("read=ok create=ok"), outcome)
    }
}
