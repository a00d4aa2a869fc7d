@testable import ConvenePluginHost
import XCTest

/// A call's index of its own writes answers every listing step as sorting its writes afresh
/// would, through any mix of writes, deletions and listings.
final class OwnKeyIndexTests: XCTestCase {
    /// What the index replaces: the call's live keys under `prefix` after `cursor`, sorted now.
    func naiveSuccessor(_ writes: [[UInt8]: [UInt8]?], under prefix: [UInt8], after cursor: [UInt8]?) -> [UInt8]? {
        writes.filter { $0.key.starts(with: prefix) && $0.value != nil }.map(\.key)
            .filter { key in cursor.map { $0.lexicographicallyPrecedes(key) } ?? true }
            .min { $0.lexicographicallyPrecedes($1) }
    }

    func testTheIndexAnswersAsSortingTheWritesAfresh() {
        var generator = SystemRandomNumberGenerator()
        func key() -> [UInt8] { (0..<Int.random(in: 0...3, using: &generator)).map { _ in UInt8.random(in: 0...3, using: &generator) } }
        for round in 0..<400 {
            // Small blocks in half the rounds, so that blocks split and empty often.
            let blockSize = round % 2 == 0 ? 2 : 512
            var writes: [[UInt8]: [UInt8]?] = [:]
            var index: OwnKeyIndex?
            for _ in 0..<60 {
                if Bool.random(using: &generator) {
                    let written = key(), value: [UInt8]? = Int.random(in: 0..<3, using: &generator) == 0 ? nil : [1]
                    writes[written] = .some(value)
                    index?.noteWrite(written, isLive: value != nil)
                } else {
                    if index == nil || Int.random(in: 0..<20, using: &generator) == 0 { index = OwnKeyIndex(writes: writes, blockSize: blockSize) }
                    let prefix = key(), cursor: [UInt8]? = Bool.random(using: &generator) ? key() : nil
                    XCTAssertEqual(index!.successor(under: prefix, after: cursor), naiveSuccessor(writes, under: prefix, after: cursor),
                                   "round \(round): prefix \(prefix) after \(String(describing: cursor)) in \(writes)")
                    for (written, value) in writes { XCTAssertEqual(index!.isDeleted(written), value == nil) }
                }
            }
        }
    }
}
