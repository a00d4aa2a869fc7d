import ConveneClient
import ConveneProtos
import ConveneRPC
import ConveneTransport
import Foundation
import NIOCore
import XCTest

/// Durable event subscriptions through the real server: a plugin loaded later starts after
/// its load, one unloaded and loaded again resumes where it stopped, events arrive in
/// order and once each, and a delivery abandoned by an unload is delivered again.
class PluginEventTests: OperationTestCase {
    override class var builtPlugins: Bool { true }

    /// The recorder fixture's lines: "SEQUENCE KIND SUBJECT", in delivery order.
    func seen() async throws -> [String] {
        let answer = try await f.client.unary(path: "/test.Recorder/Seen", request: ByteBuffer(), options: f.options("Troops"))
        return String(decoding: Array(buffer: answer.message), as: UTF8.self).split(separator: "\n").map(String.init)
    }

    func subjects(_ lines: [String], kind: String) -> [String] {
        lines.map { $0.split(separator: " ").map(String.init) }.filter { $0.count == 3 && $0[1] == kind }.map { $0[2] }
    }

    func unload(_ name: String) async throws {
        _ = try await f.client.unary(PM.unloadPlugin, Convene_Plugins_V1_UnloadPluginRequest.with { $0.name = name },
                                     as: Convene_Plugins_V1_UnloadPluginResponse.self, options: .bearer(try f.adminToken))
    }

    func testALaterPluginStartsAfterItsLoadAndAReloadedOneResumes() async throws {
        let before = try await f.convene(operation)
        _ = try await f.loadPlugin(f.fixture("Recorder"))
        let first = try await f.convene(operation, stage: .missionPlanning)
        let afterLoad = try await eventually { () -> [String]? in
            let lines = try await self.seen()
            return self.subjects(lines, kind: "meeting.convened").isEmpty ? nil : lines
        }
        XCTAssertEqual(subjects(afterLoad ?? [], kind: "meeting.convened"), [first.id], "nothing from before its load")
        XCTAssertFalse(afterLoad?.contains { $0.hasSuffix(before.id) } ?? true)

        try await unload("recorder")
        let whileUnloaded = try await f.convene(operation, stage: .mandateChange)
        _ = try await f.client.unary(CM.updateMandate, Convene_Consultation_V1_UpdateMandateRequest.with {
            $0.operationID = operation; $0.mandate = "Protect civilians"
        }, as: Convene_Consultation_V1_Operation.self, options: f.options("President"))
        _ = try await f.loadPlugin(f.fixture("Recorder"))
        let resumed = try await eventually { () -> [String]? in
            let lines = try await self.seen()
            return lines.contains { $0.contains("mandate.updated") } ? lines : nil
        }
        let lines = try XCTUnwrap(resumed)
        XCTAssertEqual(subjects(lines, kind: "meeting.convened"), [first.id, whileUnloaded.id], "resumed where it stopped, once each")
        let sequences = lines.compactMap { Int64($0.split(separator: " ").first ?? "") }
        XCTAssertEqual(sequences, sequences.sorted(), "in order")
        XCTAssertEqual(Set(sequences).count, sequences.count, "each once")
        XCTAssertFalse(lines.contains { $0.contains("plugin:") }, "plugin events are not domain events")
    }

    func testADeliveryAbandonedByAnUnloadIsDeliveredAgain() async throws {
        _ = try await f.loadPlugin(f.fixture("Recorder"))
        // The recorder keeps this event's delivery waiting 3 s; the unload abandons it meanwhile.
        _ = try await f.client.unary(BM.publishReport, Convene_Briefing_V1_PublishReportRequest.with {
            $0.operationID = operation; $0.symbol = "S/2026/1"; $0.title = "recorder: hang"; $0.text = "..."
        }, as: Convene_Briefing_V1_Report.self, options: f.options("Secretariat"))
        try await Task.sleep(for: .milliseconds(300))
        try await unload("recorder")
        try await Task.sleep(for: .seconds(3))  // the abandoned hook returns; nothing of it is committed
        _ = try await f.loadPlugin(f.fixture("Recorder"))
        let lines = try await eventually { () -> [String]? in
            let lines = try await self.seen()
            return lines.isEmpty ? nil : lines
        }
        XCTAssertEqual(lines?.count, 1, "delivered again, and committed once: \(lines ?? [])")
        XCTAssertTrue(lines?.first?.contains("report.published") ?? false)
    }
}
