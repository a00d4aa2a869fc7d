import Foundation
import XCTest

/// `convene demo` against a real server: the whole life of an operation, refusals included.
final class DemoTests: XCTestCase {
    func testDemoPlaysTheOperationAndReportsWhatItCreated() async throws {
        let f = try await Fixture(clock: nil)  // `convene demo` plays on the time of day
        let bin = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        func runDemo() throws -> [String: Any] {
            let process = Process()
            process.executableURL = bin.appendingPathComponent("convene")
            process.arguments = ["--target", "127.0.0.1:\(f.port)", "demo", "--token-file", f.dataDirectory + "/admin.token"]
            let out = Pipe(), err = Pipe()
            process.standardOutput = out
            process.standardError = err
            try process.run()
            process.waitUntilExit()
            let output = out.fileHandleForReading.readDataToEndOfFile()
            let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            XCTAssertEqual(process.terminationStatus, 0, errors)
            let lines = String(decoding: output, as: UTF8.self).split(separator: "\n")
            XCTAssertEqual(lines.count, 1, "one JSON line")
            return try JSONSerialization.jsonObject(with: Data((lines.first ?? "").utf8)) as? [String: Any] ?? [:]
        }
        let summary = try runDemo()
        XCTAssertEqual(summary["parties"] as? Int, 14)
        XCTAssertEqual(summary["meetings"] as? Int, 10)
        XCTAssertEqual(summary["summaries_circulated"] as? Int, 3)
        XCTAssertEqual(summary["lessons_attached_to_planning"] as? Int, 1)
        XCTAssertEqual(summary["concerns_raised"] as? Int, summary["concerns_answered"] as? Int)
        XCTAssertEqual(summary["recorded_after_the_fact"] as? Int, 5, "the history, recorded with its reason")
        XCTAssertEqual(summary["request_concerns_as_topics"] as? Int, 2, "II.B.4(d)")
        XCTAssertEqual(summary["flagged"] as? Int, 2, "a late report and the Council's consultations before the contributors' meeting")
        XCTAssertEqual(summary["streams_ended_by_revocation"] as? Int, 1)
        let refusals = summary["refusals"] as? [String: Int] ?? [:]
        XCTAssertEqual(refusals["PERMISSION_DENIED"], 11, "the mechanisms: the administrator, a contributor forming a group, a stranger reading")
        XCTAssertEqual(refusals["FAILED_PRECONDITION"], 10, "the mechanisms: a stranger as a Friend (I.C.2)")
        XCTAssertEqual(summary["friends_proposals"] as? Int, 2, "the donor and the host country, each with its II.B.3 category")
        XCTAssertGreaterThan(summary["assessed_meetings"] as? Int ?? 0, 0)
        // It can run again against the same server (its parties carry a run tag).
        let again = try runDemo()
        XCTAssertNotEqual(again["operation"] as? String, summary["operation"] as? String)
        await f.stop()
        f.remove()
    }
}
