@testable import ConveneTransport
import NIOCore
import NIOEmbedded
import XCTest

/// The event loop's shared timers: wake-ups fire in order, re-arming and cancelling cost
/// no search, and many timers cancelled at once leave nothing behind.
final class LoopTimerTests: XCTestCase {
    func testTimersFireInDeadlineOrderAndARearmedOrCancelledOneFiresOnlyAsLastAsked() {
        let loop = EmbeddedEventLoop()
        var fired: [String] = []
        let a = LoopTimer(on: loop) { fired.append("a") }
        let b = LoopTimer(on: loop) { fired.append("b") }
        let c = LoopTimer(on: loop) { fired.append("c") }
        a.arm(at: loop.now + .seconds(3))
        b.arm(at: loop.now + .seconds(1))
        c.arm(at: loop.now + .seconds(2))
        b.arm(at: loop.now + .seconds(4))  // re-armed later: its first entry is stale
        c.cancel()
        loop.advanceTime(by: .seconds(2))
        XCTAssertEqual(fired, [])
        loop.advanceTime(by: .seconds(1))
        XCTAssertEqual(fired, ["a"])
        loop.advanceTime(by: .seconds(1))
        XCTAssertEqual(fired, ["a", "b"])
        XCTAssertNil(b.deadline, "a fired timer is disarmed")
        a.arm(at: loop.now + .milliseconds(10))  // an action may arm again
        loop.advanceTime(by: .milliseconds(10))
        XCTAssertEqual(fired, ["a", "b", "a"])
    }

    func testTenThousandTimersCancelledAtOnceFireNothing() {
        let loop = EmbeddedEventLoop()
        var fired = 0
        let timers = (0..<10_000).map { i in
            let timer = LoopTimer(on: loop) { fired += 1 }
            timer.arm(at: loop.now + .seconds(Int64(1 + i % 60)))
            return timer
        }
        for timer in timers { timer.cancel() }
        loop.advanceTime(by: .seconds(61))
        XCTAssertEqual(fired, 0)
    }

    func testEachEventLoopHasItsOwnTimers() {
        let first = EmbeddedEventLoop(), second = EmbeddedEventLoop()
        var fired: [Int] = []
        let one = LoopTimer(on: first) { fired.append(1) }
        let two = LoopTimer(on: second) { fired.append(2) }
        one.arm(at: first.now + .seconds(1))
        two.arm(at: second.now + .seconds(1))
        second.advanceTime(by: .seconds(1))
        XCTAssertEqual(fired, [2])
        first.advanceTime(by: .seconds(1))
        XCTAssertEqual(fired, [2, 1])
    }

    /// A loop's timers live while a timer on it does, and never keep the loop: the registry
    /// holds them weakly (not the loop, which NIO retains on every read and write: an object
    /// once referenced weakly is retained through its side table ever after).
    func testALoopsTimersGoWithItsLastTimerAndDoNotKeepTheLoop() {
        weak var goneLoop: EmbeddedEventLoop?
        weak var goneTimers: LoopTimers?
        do {
            let loop = EmbeddedEventLoop()
            goneLoop = loop
            var fired = 0
            let timer = LoopTimer(on: loop) { fired += 1 }
            let timers = LoopTimers.on(loop)
            goneTimers = timers
            XCTAssertTrue(LoopTimers.on(loop) === timers, "one set of timers per loop while it is used")
            timer.arm(at: loop.now + .seconds(1))
            loop.advanceTime(by: .seconds(1))
            XCTAssertEqual(fired, 1)
        }
        XCTAssertNil(goneTimers, "the timers went with the last timer")
        XCTAssertNil(goneLoop, "the registry does not keep the loop")
    }
}
