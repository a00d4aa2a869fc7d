import ConveneClient
import ConveneProtos
import ConveneRPC
import ConveneStore
import ConveneTransport
import Foundation
import XCTest

/// Kills the real server with SIGKILL while clients write, restarts it, and checks that
/// every acknowledged write is there and the database is intact.
final class CrashSafetyTests: XCTestCase {
    final class Acknowledged: Sendable {
        let names = Locked<Set<String>>([])
    }

    func startServer(port: Int, dataDir: String) throws -> Process {
        try ConvenedProcess(port: port, dataDir: dataDir).process
    }

    func waitHealthy(_ client: ConveneClient) async -> Bool {
        await ConvenedProcess.waitHealthy(client)
    }

    func testAcknowledgedWritesSurviveRepeatedSIGKILL() async throws {
        let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("convene-crash-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dataDir) }
        let port = unusedLocalPort()
        let acknowledged = Acknowledged()
        let rounds = 6
        var attempted = 0
        for round in 0..<rounds {
            let server = try startServer(port: port, dataDir: dataDir)
            let client = ConveneClient(host: "127.0.0.1", port: port)
            let healthy = await waitHealthy(client)
            XCTAssertTrue(healthy, "round \(round): server did not start")
            let token = try String(contentsOfFile: dataDir + "/admin.token", encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            // Four writers, each at most 500 writes, until the kill ends them.
            let writers = (0..<4).map { writer in
                Task { @Sendable () -> Int in
                    var tried = 0
                    for i in 0..<500 {
                        let name = "crash-\(round)-\(writer)-\(i)"
                        tried += 1
                        do {
                            _ = try await client.unary(AdministrationMethods.registerParty, Convene_Admin_V1_RegisterPartyRequest.with {
                                $0.name = name; $0.kind = .memberState
                            }, as: Convene_Parties_V1_Party.self, options: .bearer(token, timeout: .seconds(2)))
                            _ = acknowledged.names.withLock { $0.insert(name) }
                        } catch {
                            return tried
                        }
                    }
                    return tried
                }
            }
            try await Task.sleep(for: .milliseconds(Int.random(in: 150...450)))
            kill(server.processIdentifier, SIGKILL)
            for writer in writers { attempted += await writer.value }
            server.waitUntilExit()
            await client.close()
            // The database is intact after every kill.
            let store = try SQLiteStore(directory: dataDir)
            XCTAssertEqual(try store.integrityCheck(), "ok", "round \(round)")
        }
        // Restart once more and read everything back.
        let server = try startServer(port: port, dataDir: dataDir)
        defer { server.terminate(); server.waitUntilExit() }
        let client = ConveneClient(host: "127.0.0.1", port: port)
        let healthy = await waitHealthy(client)
        XCTAssertTrue(healthy)
        let token = try String(contentsOfFile: dataDir + "/admin.token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        var stored = Set<String>()
        var pageToken = ""
        repeat {
            let page = try await client.unary(AdministrationMethods.listParties, Convene_Admin_V1_ListPartiesRequest.with {
                $0.pageSize = 500; $0.pageToken = pageToken
            }, as: Convene_Admin_V1_ListPartiesResponse.self, options: .bearer(token))
            stored.formUnion(page.parties.map(\.name))
            pageToken = page.nextPageToken
        } while !pageToken.isEmpty
        let acked = acknowledged.names.withLock { $0 }
        XCTAssertGreaterThan(acked.count, 0)
        XCTAssertTrue(acked.isSubset(of: stored), "lost acknowledged writes: \(acked.subtracting(stored).sorted().prefix(5))")
        print("crash safety: \(rounds) SIGKILLs, \(attempted) writes attempted, \(acked.count) acknowledged, all present after restart")
        await client.close()
    }
}
