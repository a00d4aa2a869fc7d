import ConveneRPC
import NIOCore
import Synchronization
import XCTest

/// A deferred call's completion: one answer, and the cancellation told once, through a
/// closure or an object (`onCancel(telling:)`), never after the call was answered.
final class DeferredCompletionTests: XCTestCase {
    final class Target: CallCancellation {
        let told = Atomic<Int>(0)
        func callCancelled() { told.add(1, ordering: .relaxed) }
    }

    final class Answers: Sendable {
        let results = Mutex<[Result<ByteBuffer, any Error>]>([])
        var count: Int { results.withLock { $0.count } }
    }

    func completion(_ answers: Answers) -> DeferredCompletion {
        DeferredCompletion { result in answers.results.withLock { $0.append(result) } }
    }

    func testACancelledCallTellsItsTargetOnceAndTakesNoAnswer() {
        let answers = Answers()
        let completion = completion(answers)
        let target = Target()
        completion.onCancel(telling: target)
        completion.cancel()
        completion.cancel()
        XCTAssertEqual(target.told.load(ordering: .relaxed), 1)
        completion.succeed(ByteBuffer(bytes: [1]))
        XCTAssertEqual(answers.count, 0, "an answer after the cancellation is dropped")
    }

    func testAnAnsweredCallTellsNoOneOfALaterCancellation() {
        let answers = Answers()
        let completion = completion(answers)
        let target = Target()
        completion.onCancel(telling: target)
        completion.succeed(ByteBuffer(bytes: [1, 2]))
        completion.fail(RPCError(.internal, "second"))
        completion.cancel()
        XCTAssertEqual(target.told.load(ordering: .relaxed), 0)
        XCTAssertEqual(answers.count, 1, "only the first answer counts")
    }

    func testATargetSetAfterTheCallEndedIsToldAtOnce() {
        let completion = completion(Answers())
        completion.cancel()
        let target = Target()
        completion.onCancel(telling: target)
        XCTAssertEqual(target.told.load(ordering: .relaxed), 1)
        let closureTold = Atomic<Int>(0)
        completion.onCancel { closureTold.add(1, ordering: .relaxed) }
        XCTAssertEqual(closureTold.load(ordering: .relaxed), 1, "a closure too")
    }

    /// Completions other than the transport's get `onCancel(telling:)` as a closure.
    func testACompletionOfItsOwnTellsTheTargetThroughItsClosure() {
        final class Plain: UnaryCompletion, @unchecked Sendable {
            var handler: (@Sendable () -> Void)?
            func succeed(_ response: ByteBuffer) {}
            func fail(_ error: any Error) {}
            func onCancel(_ handler: @escaping @Sendable () -> Void) { self.handler = handler }
        }
        let plain = Plain()
        let target = Target()
        plain.onCancel(telling: target)
        plain.handler?()
        XCTAssertEqual(target.told.load(ordering: .relaxed), 1)
    }
}
