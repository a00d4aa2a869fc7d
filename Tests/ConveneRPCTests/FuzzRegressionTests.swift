import ConveneFuzzTargets
import Foundation
import XCTest

/// Replays the fuzzing corpus (seeds, and every input a fuzzer ever crashed on, kept in
/// Tests/FuzzCorpus) through every fuzz target, so `make test` guards against regressions.
final class FuzzRegressionTests: XCTestCase {
    func testCorpusReplaysCleanly() throws {
        let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("FuzzCorpus")
        var replayed = 0
        for directory in try FileManager.default.contentsOfDirectory(atPath: corpus.path).sorted() {
            let folder = corpus.appendingPathComponent(directory)
            for file in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [] {
                let data = try Data(contentsOf: folder.appendingPathComponent(file))
                for target in FuzzTargets.all { target.run(Array(data)) }
                replayed += 1
            }
        }
        XCTAssertGreaterThanOrEqual(replayed, 10, "the seed corpus is in the repository")
    }

    func testTargetsSurviveDeterministicRandomInputs() {
        // A bounded, seeded sweep (not a fuzzer): 300 inputs of up to 512 bytes per target.
        var state: UInt64 = 0x5EED
        func next() -> UInt64 { state = state &* 6364136223846793005 &+ 1442695040888963407; return state >> 33 }
        for target in FuzzTargets.all {
            for _ in 0..<300 {
                let length = Int(next() % 512)
                target.run((0..<length).map { _ in UInt8(truncatingIfNeeded: next()) })
            }
        }
    }
}
