import ConveneRPC
import XCTest

final class PauseTests: XCTestCase {
    /// A cancelled task still waits: the drain loops that pause between looks do not spin.
    func testPauseWaitsInACancelledTask() async {
        let task = Task { () -> (cancelled: Bool, waited: Duration) in
            withUnsafeCurrentTask { $0?.cancel() }
            let start = ContinuousClock.now
            await pause(for: .milliseconds(50))
            return (Task.isCancelled, ContinuousClock.now - start)
        }
        let (cancelled, waited) = await task.value
        XCTAssertTrue(cancelled)
        XCTAssertGreaterThanOrEqual(waited, .milliseconds(50))
    }
}
