import ConveneClient
@testable import ConvenePluginHost
import ConveneServer
import Foundation
import XCTest

/// An isolated plugin's process is sandboxed (`--plugin-sandbox`, on by default): a hostile
/// library in it cannot read the server's database or credentials, write on disk or change a
/// file's mode, open the server's memory or environment, signal it, reach a service's socket
/// or a datagram on disk or (`--plugin-network deny`, the default) any service over the
/// network, nor use io_uring or System V IPC to do any of it; it has no capability, and of the server's environment only
/// what is named for plugins. The Faults fixture's Escape tries each and says what came of it.
class PluginSandboxTests: PluginTestCase {
    override class var isolation: PluginIsolation { .process }

    override func setUp() async throws {
        // The runner is started at the plugin's load, with the environment the server has then.
        setenv("CONVENE_TEST_SECRET", "the server's own", 1)
        setenv("CONVENE_PLUGIN_TEST", "named-for-plugins", 1)
        try await super.setUp()
    }

    override func tearDown() async throws {
        unsetenv("CONVENE_TEST_SECRET")
        unsetenv("CONVENE_PLUGIN_TEST")
        try await super.tearDown()
    }

    /// What Escape made of `file` in the server's data directory.
    func escape(_ file: String) async throws -> [String: String] {
        let path = (f.dataDirectory as NSString).appendingPathComponent(file)
        XCTAssertTrue(FileManager.default.fileExists(atPath: path), "the server keeps \(file)")
        return try await escape(path: path)
    }

    /// What Escape made of `path`.
    func escape(path: String) async throws -> [String: String] {
        let reply = try await PluginFaultTests.raw(f.client, token: f.tokens["Troops"]!, "/test.faults.Faults/Escape",
                                                   Array(path.utf8), timeout: .seconds(20))
        // A test.faults.Reply: field 1 (text), its length in one or two bytes.
        XCTAssertGreaterThan(reply.count, 2)
        let header = reply.count > 2 && reply[1] & 0x80 != 0 ? 3 : 2
        let text = String(decoding: reply.dropFirst(header), as: UTF8.self)
        return Dictionary(text.split(separator: " ").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1)
            return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
        }, uniquingKeysWith: { first, _ in first })
    }
}

final class PluginSandboxOnTests: PluginSandboxTests {
    func testAnIsolatedPluginCannotReachTheServersFilesMemoryOrProcess() async throws {
        try XCTSkipIf(RunnerSandbox.landlockABI < 1, "this kernel offers no Landlock")
        _ = try await f.loadPlugin(f.fixture("Faults"))
        for file in ["admin.token", "convene.sqlite"] {
            let outcome = try await escape(file)
            XCTAssertEqual(outcome["read"], "EACCES", "\(file): \(outcome)")
            XCTAssertEqual(outcome["create"], "EACCES", "\(file): \(outcome)")
            XCTAssertEqual(outcome["memory"], "EACCES", "\(file): \(outcome)")
            XCTAssertEqual(outcome["environ"], "EACCES", "\(file): \(outcome)")
            XCTAssertEqual(outcome["chmod"], "EPERM", "\(file): \(outcome)")
            XCTAssertEqual(outcome["unix"], "EPERM", "\(file): \(outcome)")
            XCTAssertEqual(outcome["tcp"], "EPERM", "\(file): \(outcome)")
            XCTAssertEqual(outcome["uring"], "ENOSYS", "\(file): \(outcome)")
            XCTAssertEqual(outcome["dgram"], "EPERM", "\(file): \(outcome)")
            XCTAssertEqual(outcome["netlink"], "EPERM", "\(file): \(outcome)")
            XCTAssertEqual(outcome["prlimit"], "EPERM", "\(file): \(outcome)")
            XCTAssertEqual(outcome["setsid"], "EPERM", "\(file): \(outcome)")
            XCTAssertEqual(outcome["flock"], "EPERM", "\(file): \(outcome)")
            XCTAssertEqual(outcome["ipc"], "EPERM", "\(file): \(outcome)")
            XCTAssertEqual(outcome["caps"], "0000000000000000", "\(file): \(outcome)")
            XCTAssertEqual(outcome["secret"], "unset", "\(file): \(outcome)")
            XCTAssertEqual(outcome["plugin"], "named-for-plugins", "\(file): \(outcome)")
            XCTAssertEqual(outcome["stderr"], "/dev/null", "\(file): \(outcome)")
            if RunnerSandbox.landlockABI >= 6 { XCTAssertEqual(outcome["signal"], "EPERM", "\(file): \(outcome)") }
        }
        // Of /etc, what libraries use: not what only root may read (a runner's root would, as owner).
        let shadow = try await escape(path: "/etc/shadow")
        XCTAssertEqual(shadow["read"], "EACCES", "\(shadow)")
        // Nor the TLS keys beside the certificates, which a library reads.
        if FileManager.default.fileExists(atPath: "/etc/ssl/private") {
            let keys = try await escape(path: "/etc/ssl/private")
            XCTAssertEqual(keys["read"], "EACCES", "\(keys)")
        }
        if FileManager.default.fileExists(atPath: "/etc/ssl/certs") {
            let certificates = try await escape(path: "/etc/ssl/certs")
            XCTAssertEqual(certificates["read"], "ok", "\(certificates)")
        }
        // The plugin serves as before, and the server is up.
        let reflected = try await PluginFaultTests.raw(f.client, token: f.tokens["Troops"]!, "/test.faults.Faults/Reflect",
                                                       faultsReply(text: "ok"), timeout: .seconds(20))
        XCTAssertEqual(reflected, faultsReply(text: "ok"))
        let health = try await f.client.health.check().status
        XCTAssertEqual(health, .serving)
    }
}

/// With `--plugin-sandbox off` the same plugin reaches the server's files: what the test
/// above shows is the sandbox's doing. The environment is the runner's either way.
final class PluginSandboxOffTests: PluginSandboxTests {
    override class func configure(_ configuration: inout ServerConfiguration) { configuration.pluginSandbox = .off }

    func testWithoutTheSandboxAnIsolatedPluginReadsTheServersFiles() async throws {
        _ = try await f.loadPlugin(f.fixture("Faults"))
        let outcome = try await escape("admin.token")
        XCTAssertEqual(outcome["read"], "ok", "\(outcome)")
        XCTAssertEqual(outcome["create"], "ok", "\(outcome)")
        XCTAssertEqual(outcome["chmod"], "ok", "\(outcome)")
        XCTAssertEqual(outcome["unix"], "ok", "\(outcome)")
        XCTAssertEqual(outcome["tcp"], "ok", "\(outcome)")
        XCTAssertEqual(outcome["dgram"], "ok", "\(outcome)")
        XCTAssertEqual(outcome["netlink"], "ok", "\(outcome)")
        XCTAssertEqual(outcome["prlimit"], "ok", "\(outcome)")
        XCTAssertEqual(outcome["setsid"], "ok", "\(outcome)")
        XCTAssertEqual(outcome["flock"], "ok", "\(outcome)")
        XCTAssertEqual(outcome["secret"], "unset", "the server's environment is not the plugin's: \(outcome)")
        XCTAssertEqual(outcome["plugin"], "named-for-plugins", "\(outcome)")
        XCTAssertEqual(outcome["stderr"], "/dev/null", "the server's log is not the plugin's: \(outcome)")
    }
}

/// With `--plugin-network allow` a sandboxed plugin opens network sockets; a socket on disk,
/// io_uring and the server's files stay out of its reach.
final class PluginSandboxNetworkTests: PluginSandboxTests {
    override class func configure(_ configuration: inout ServerConfiguration) { configuration.pluginNetwork = .allow }

    func testWithTheNetworkAllowedASandboxedPluginOpensAnInternetSocketOnly() async throws {
        try XCTSkipIf(RunnerSandbox.landlockABI < 1, "this kernel offers no Landlock")
        _ = try await f.loadPlugin(f.fixture("Faults"))
        let outcome = try await escape("admin.token")
        XCTAssertEqual(outcome["tcp"], "ok", "\(outcome)")
        XCTAssertEqual(outcome["unix"], "EPERM", "\(outcome)")
        XCTAssertEqual(outcome["uring"], "ENOSYS", "\(outcome)")
        XCTAssertEqual(outcome["dgram"], "EPERM", "\(outcome)")
        XCTAssertEqual(outcome["netlink"], "EPERM", "the kernel's netlink is not the network: \(outcome)")
        XCTAssertEqual(outcome["ipc"], "EPERM", "\(outcome)")
        XCTAssertEqual(outcome["read"], "EACCES", "\(outcome)")
    }
}
