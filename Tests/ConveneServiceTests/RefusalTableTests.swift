import ConveneClient
import ConveneProtos
import ConveneRPC
import ConveneTransport
import Foundation
import XCTest

/// Docs/SERVICES.md and the code agree: every row of its refusal tables is provoked against a
/// real server, and comes back with the status and the words the row gives.
final class RefusalTableTests: XCTestCase {
    struct Row {
        let id: String
        let status: String
        let message: String
    }

    /// The rows of SERVICES.md's refusal tables: `| id | rule | provision | `STATUS` | "message" |`.
    static func rows() throws -> [Row] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("Docs/SERVICES.md"), encoding: .utf8)
        let pattern = try NSRegularExpression(pattern: #"^\| ([A-Z][0-9]+) \|.*\| `([A-Z_]+)` \| "(.*)" \|$"#, options: .anchorsMatchLines)
        let anyRow = try NSRegularExpression(pattern: #"^\| [A-Z][0-9]+ \|"#, options: .anchorsMatchLines)
        let range = NSRange(text.startIndex..., in: text)
        XCTAssertEqual(anyRow.numberOfMatches(in: text, range: range), pattern.numberOfMatches(in: text, range: range),
                       "every refusal row has a status in backticks and its words in quotes")
        return pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)).map { match in
            func group(_ index: Int) -> String { String(text[Range(match.range(at: index), in: text)!]) }
            return Row(id: group(1), status: group(2), message: group(3))
        }
    }

    func testEveryRefusalTheDocsListIsTheServersAnswer() async throws {
        let rows = try Self.rows()
        XCTAssertGreaterThan(rows.count, 80, "the tables were read")
        XCTAssertEqual(Set(rows.map(\.id)).count, rows.count, "ids are unique")
        let f = try await Fixture(configure: { $0.pluginDirectories = []; $0.maxAttachmentSize = 100_000 })
        let world = World(f)
        try await world.build()
        let provocations = Provocations(world: world)
        try await provocations.prepare()
        let all = provocations.all
        XCTAssertEqual(Set(all.keys).subtracting(rows.map(\.id)).sorted(), [], "provocations of refusals the docs do not list")
        for row in rows {
            guard let provoke = all[row.id] else {
                XCTFail("\(row.id): no provocation for the refusal \"\(row.message)\"")
                continue
            }
            do {
                try await provoke()
                XCTFail("\(row.id): not refused (the docs say \(row.status): \"\(row.message)\")")
            } catch let failure as SetupFailure {
                XCTFail("\(row.id): setting up the provocation failed: \(failure.message)")
            } catch {
                let got = RPCError.from(error)
                XCTAssertEqual(got.code.name, row.status, "\(row.id): \(got.message)")
                XCTAssertTrue(got.message.contains(row.message), "\(row.id): '\(got.message)' lacks \"\(row.message)\"")
                XCTAssertNil(got.message.range(of: #"(\([^()]+\)) \1"#, options: .regularExpression),
                             "\(row.id): '\(got.message)' cites a provision twice over")
            }
        }
        await f.stop()
        f.remove()
    }
}
