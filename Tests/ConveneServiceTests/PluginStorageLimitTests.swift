import ConveneProtos
import ConvenePluginHost
import ConveneServer
import XCTest

/// A plugin's storage as a whole, across its calls, is bounded (`--plugin-storage-limit`).
class PluginStorageLimitTests: PluginTestCase {
    /// Room for 227 of the fixture's keys ("k000000" holding "v": 7 + 1 + 64 bytes each).
    static let storageLimit: Int64 = 16 << 10
    override class func configure(_ configuration: inout ServerConfiguration) {
        configuration.pluginStorageLimit = storageLimit
    }

    /// A plugin's storage is bounded as a whole (`--plugin-storage-limit`), across calls: a call
    /// whose writes would pass the limit commits none of them and fails with RESOURCE_EXHAUSTED
    /// naming the limit; one that frees room (deletes) is never refused. Administrators see
    /// what the storage holds; parties do not.
    func testAPluginsStorageIsBoundedAsAWhole() async throws {
        _ = try await f.loadPlugin(f.fixture("Behaviour"))
        let perKey: Int64 = 7 + 1 + 64
        let put = try await storage("p", 220)
        XCTAssertEqual(put, "puts=220")
        try await assertStorage(holds: 220 * perKey)
        let over = await assertRPCError(.resourceExhausted) { _ = try await self.storage("p", 228) }
        XCTAssertEqual(over?.message, "plugin behaviour: its storage would hold \(228 * perKey) bytes, over its limit of \(Self.storageLimit) (--plugin-storage-limit); nothing of this call was committed")
        try await assertStorage(holds: 220 * perKey, "a refused call wrote none of its keys, old or new")
        // Rewriting the keys held (no new room) is not refused; nor is deleting them.
        let again = try await storage("p", 227)
        XCTAssertEqual(again, "puts=227")
        let deleted = try await storage("d", 227)
        XCTAssertEqual(deleted, "next=0 deleted=227")
        try await assertStorage(holds: 0)
    }

    func assertStorage(holds bytes: Int64, _ message: String = "", line: UInt = #line) async throws {
        let request = Convene_Plugins_V1_ListPluginsRequest()
        let seen = try await f.client.unary(PM.listPlugins, request, as: Convene_Plugins_V1_ListPluginsResponse.self,
                                            options: .bearer(try f.adminToken)).plugins.first { $0.name == "behaviour" }
        XCTAssertEqual(seen?.storageBytes, UInt64(bytes), message, line: line)
        XCTAssertEqual(seen?.storageLimit, UInt64(Self.storageLimit), line: line)
        let party = try await f.client.unary(PM.listPlugins, request, as: Convene_Plugins_V1_ListPluginsResponse.self,
                                             options: f.options("Troops")).plugins.first { $0.name == "behaviour" }
        XCTAssertEqual(party?.storageBytes, 0, "a party is not shown what a plugin holds", line: line)
        XCTAssertEqual(party?.storageLimit, 0, line: line)
    }
}

final class IsolatedPluginStorageLimitTests: PluginStorageLimitTests {
    override class var isolation: PluginIsolation { .process }
    override func testAPluginsStorageIsBoundedAsAWhole() async throws { try await super.testAPluginsStorageIsBoundedAsAWhole() }
}
