@testable import ConveneServer
import ConveneClient
import ConveneProtos
import ConveneRPC
import ConveneStore
import ConveneTransport
import Foundation
import XCTest

/// The store's state, as callers and health see it: a full disk answers writes with
/// RESOURCE_EXHAUSTED saying the store is full, health reports it on "convene.store" (and
/// "" stays SERVING, saying what is degraded), and all comes back once the disk has room.
/// The data directory and database are readable by their owner only.
final class StoreHealthTests: XCTestCase {
    func testTheDataDirectoryIs0700AndTheDatabase0600() async throws {
        try await withServer { server, _ in
            let files = FileManager.default
            let directory = try files.attributesOfItem(atPath: server.dataDirectory)[.posixPermissions] as? Int
            XCTAssertEqual(directory, 0o700)
            for name in ["convene.sqlite", "convene.sqlite-wal", "convene.sqlite-shm", "admin.token"] {
                let path = server.dataDirectory + "/" + name
                guard files.fileExists(atPath: path) else { continue }
                let mode = try files.attributesOfItem(atPath: path)[.posixPermissions] as? Int
                XCTAssertEqual(mode, 0o600, name)
            }
        }
    }

    func testHealthReportsTheStoreAndTheServerIsNotServingOnlyWhenItCannotServe() async throws {
        let server = try await InMemoryServer.start()
        let monitor = server.server.monitor
        monitor.publish()
        XCTAssertEqual(server.server.health.status(of: ServerMonitor.storeService), .serving)
        monitor.storeOutcome(.full(cause: "SQLITE_FULL: database or disk is full"))
        XCTAssertEqual(server.server.health.status(of: ServerMonitor.storeService), .notServing)
        XCTAssertEqual(server.server.health.status(of: ""), .serving, "reads are still served")
        XCTAssertEqual(server.server.health.message(of: ""), "degraded: " + ServerMonitor.fullMessage)
        monitor.storeOutcome(.unavailable(cause: "SQLITE_IOERR_WRITE"))
        XCTAssertEqual(server.server.health.status(of: ""), .notServing)
        XCTAssertTrue(server.server.health.message(of: "")?.contains("the store is failing") ?? false)
        monitor.storeOutcome(nil)
        XCTAssertEqual(server.server.health.status(of: ""), .serving)
        XCTAssertNil(server.server.health.message(of: ""))
        XCTAssertEqual(server.server.health.status(of: ServerMonitor.storeService), .serving)
        await server.stop()
    }

    func testStoreFailuresAnswerWithWhatHappenedNotInternal() {
        XCTAssertEqual(RPCError.from(StoreError.full(cause: "x")).code, .resourceExhausted)
        XCTAssertTrue(RPCError.from(StoreError.full(cause: "x")).message.hasPrefix("the store is full"))
        XCTAssertEqual(RPCError.from(StoreError.unavailable(cause: "x")).code, .unavailable)
        XCTAssertFalse(RPCError.from(StoreError.unavailable(cause: "/secret/path")).message.contains("/secret"),
                       "the cause stays in the server's log")
    }

    /// A real full disk: a 4 MiB tmpfs (needs root and mount; skipped otherwise).
    func testAFullDiskAnswersResourceExhaustedAndHealthSaysSoUntilThereIsRoom() async throws {
        let mountPoint = FileManager.default.temporaryDirectory.appendingPathComponent("convene-full-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: mountPoint) }
        guard ProcessInfo.processInfo.environment["CONVENE_TEST_STORE"] != "postgres" else {
            throw XCTSkip("a full data directory is the SQLite store's; PostgreSQL's disk is its server's")
        }
        guard getuid() == 0, Self.shell("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mountPoint) == 0 else {
            throw XCTSkip("needs root and mount for a small tmpfs")
        }
        defer { _ = Self.shell("umount", "-l", mountPoint) }
        // No plugins: their libraries are copied into the data directory, and would fill it.
        let server = try await TestServer.start { $0.dataDirectory = mountPoint + "/data"; $0.pluginDirectories = [] }
        defer { Task { await server.server.transport.close() } }
        let client = server.client()
        let admin = CallOptions.bearer(try server.adminToken)
        let register = { (name: String) in
            try await client.unary(AdministrationMethods.registerParty, Convene_Admin_V1_RegisterPartyRequest.with {
                $0.name = name; $0.kind = .memberState
            }, as: Convene_Parties_V1_Party.self, options: admin)
        }
        _ = try await register("Before")
        // Fill the disk.
        let filler = mountPoint + "/filler"
        FileManager.default.createFile(atPath: filler, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: filler))
        let block = Data(count: 64 * 1024)
        while (try? handle.write(contentsOf: block)) != nil {}
        try? handle.close()
        var refused: RPCError?
        for i in 0..<50 where refused == nil {
            do { _ = try await register("Party \(i) " + String(repeating: "x", count: 400)) } catch let error as RPCError { refused = error }
        }
        XCTAssertEqual(refused?.code, .resourceExhausted)
        XCTAssertEqual(refused?.message, "the store is full (no space left on the server's disk); nothing was written")
        let store = try await client.health.check(service: ServerMonitor.storeService)
        XCTAssertEqual(store.status, .notServing)
        XCTAssertEqual(store.message, ServerMonitor.fullMessage)
        let whole = try await client.health.check()
        XCTAssertEqual(whole.status, .serving)
        // Room again: the monitor notices within a few seconds, and writes work.
        try FileManager.default.removeItem(atPath: filler)
        let back = await eventually(timeout: .seconds(10)) {
            (try? await client.health.check(service: ServerMonitor.storeService).status) == .serving
        }
        XCTAssertTrue(back)
        _ = try await register("After")
        await client.close()
    }

    static func shell(_ arguments: String...) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }
}
