import Foundation
import XCTest

/// The plugin developer's path of Docs/PLUGINS.md, run as written: every `<!-- run: NAME -->`
/// block of the guide, in order, in one shell, with HOME a fresh folder outside the repository
/// (so `~/plugins` and `$HOME/convene-sdk` are the test's own) and the guide's ports replaced
/// by free ones. It installs the SDK, scaffolds, builds and tests a C and a Swift plugin with
/// the installed SDK only, loads them into real servers on 127.0.0.1, calls, edits, rebuilds
/// and reloads them.
final class PluginKitTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let guide = repository.appendingPathComponent("Docs/PLUGINS.md")

    /// The guide's runnable blocks: (name, commands).
    static func runnableBlocks() throws -> [(name: String, commands: String)] {
        let text = try String(contentsOf: guide, encoding: .utf8)
        let pattern = try NSRegularExpression(pattern: "<!-- run: ([a-z-]+) -->\\n```sh\\n(.*?)```", options: [.dotMatchesLineSeparators])
        return pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)).map { match in
            (String(text[Range(match.range(at: 1), in: text)!]), String(text[Range(match.range(at: 2), in: text)!]))
        }
    }

    func testTheGuidesWalkThroughRunsAsWritten() throws {
        let blocks = try Self.runnableBlocks()
        XCTAssertEqual(blocks.map(\.name), ["sdk", "c-new", "c-serve", "c-reload", "swift", "swift-reload"])
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("convene-pdk-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: home) }
        let first = unusedLocalPort()
        var second = unusedLocalPort()
        while second == first { second = unusedLocalPort() }
        let ports = (first, second)
        var script = """
        set -euxo pipefail
        trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
        cd '\(Self.repository.path)'

        """
        for block in blocks {
            script += "echo \"@@ \(block.name) $(date +%s.%N)\"\n"
            script += block.commands.replacingOccurrences(of: "7400", with: "\(ports.0)")
                .replacingOccurrences(of: "7401", with: "\(ports.1)")
        }
        script += "echo \"@@ end $(date +%s.%N)\"\n"

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", script]
        var environment = ProcessInfo.processInfo.environment
        environment["HOME"] = home.path
        // The executables this test suite runs (`make install-sdk` would ask SwiftPM, which holds this build).
        environment["BUILD_BIN"] = ConvenedProcess.binDirectory.path
        environment.removeValue(forKey: "CONVENE_TOKEN")
        environment.removeValue(forKey: "CONVENE_SDK")
        process.environment = environment
        let log = home.appendingPathComponent("walkthrough.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        // Bounded: the Swift build is the longest step (about a minute here).
        let limit = Date().addingTimeInterval(15 * 60)
        while process.isRunning, Date() < limit { Thread.sleep(forTimeInterval: 0.2) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        try handle.close()
        let output = try String(contentsOf: log, encoding: .utf8)
        XCTAssertEqual(process.terminationStatus, 0, String(output.suffix(6000)))

        for expected in ["ok tests/vote_tally.test", "ok tests/vote_count.test",
                         "vote-tally 0.1.0 (ABI 1.3) serving, process", "service vote_tally.v1.VoteTally {",
                         "  rpc Add(vote_tally.v1.AddRequest) returns (vote_tally.v1.Tally);",
                         "vote-tally 0.2.0 (ABI 1.3) serving, process", "unloaded vote-tally",
                         "  file \(home.path)/plugins/vote-tally/build/libvote_tally.so",
                         "vote-count 0.2.0 (ABI 1.3) serving, process"] {
            XCTAssertTrue(output.contains(expected + "\n"), "missing: \(expected)\n\(output.suffix(6000))")
        }
        XCTAssertEqual(output.components(separatedBy: "{\"name\":\"votes\",\"total\":\"2\",\"addedBy\":\"party-2\"}\n").count, 3,
                       "one Add answered by each plugin")

        // Figures for the guide's introduction (measured, not asserted).
        var marks: [String: Double] = [:]
        for line in output.split(separator: "\n") where line.hasPrefix("@@ ") {
            let parts = line.split(separator: " ")
            if parts.count == 3, let time = Double(parts[2]) { marks[String(parts[1])] = time }
        }
        if let sdk = marks["sdk"], let new = marks["c-new"], let reload = marks["c-reload"], let swift = marks["swift"],
           let swiftReload = marks["swift-reload"], let end = marks["end"] {
            print(String(format: "plugin kit: SDK install %.1f s; C, plugin new to first call %.1f s; Swift, plugin new to first call %.1f s, edit to reloaded %.1f s",
                         new - sdk, reload - new, swiftReload - swift, end - swiftReload))
        }
    }
}
