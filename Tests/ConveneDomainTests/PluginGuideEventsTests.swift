import ConveneDomain
import Foundation
import XCTest

/// Docs/PLUGINS.md lists the event kinds a plugin may subscribe to: exactly the catalog
/// (`convene plugins events` prints it from the same source), in its order.
final class PluginGuideEventsTests: XCTestCase {
    func testTheGuidesEventTableIsTheCatalog() throws {
        let guide = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Docs/PLUGINS.md")
        let text = try String(contentsOf: guide, encoding: .utf8)
        let section = try XCTUnwrap(text.components(separatedBy: "## The events a plugin may subscribe to").dropFirst().first)
        let rows = section.components(separatedBy: "\n## ")[0].split(separator: "\n").filter { $0.hasPrefix("| `") }.map(String.init)
        let expected = OperationEventKind.allCases.map { "| `\($0.rawValue)` | \($0.subject) | \($0.provision) |" }
        XCTAssertEqual(rows, expected)
    }
}
