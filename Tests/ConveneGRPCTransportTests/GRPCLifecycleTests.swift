@testable import ConveneGRPCTransport
import NIOCore
import XCTest

/// The connection's timers as a pure value, on a manual clock.
final class GRPCLifecycleTests: XCTestCase {
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    func testIdleConnectionCloses() {
        var lifecycle = GRPCConnectionLifecycle(idleTimeout: .seconds(10), keepaliveInterval: nil,
                                                keepaliveTimeout: .seconds(1), now: start)
        XCTAssertEqual(lifecycle.tick(now: start + .seconds(9), openCalls: 0), .none)
        XCTAssertEqual(lifecycle.tick(now: start + .seconds(11), openCalls: 3), .none, "open calls keep it")
        lifecycle.callActivity(now: start + .seconds(11))
        XCTAssertEqual(lifecycle.tick(now: start + .seconds(20), openCalls: 0), .none)
        guard case .close(let reason) = lifecycle.tick(now: start + .seconds(21), openCalls: 0) else {
            return XCTFail("idle for 10 s: closed")
        }
        XCTAssertTrue(reason.contains("idle"))
    }

    func testKeepalivePingsASilentPeerAndClosesWhenUnanswered() {
        var lifecycle = GRPCConnectionLifecycle(idleTimeout: nil, keepaliveInterval: .seconds(60),
                                                keepaliveTimeout: .seconds(20), now: start)
        XCTAssertEqual(lifecycle.tick(now: start + .seconds(59), openCalls: 1), .none)
        XCTAssertEqual(lifecycle.tick(now: start + .seconds(60), openCalls: 1), .ping)
        XCTAssertEqual(lifecycle.tick(now: start + .seconds(70), openCalls: 1), .none, "one ping at a time")
        lifecycle.pingAcknowledged()
        lifecycle.read(now: start + .seconds(70))
        XCTAssertEqual(lifecycle.tick(now: start + .seconds(129), openCalls: 1), .none)
        XCTAssertEqual(lifecycle.tick(now: start + .seconds(130), openCalls: 1), .ping)
        guard case .close(let reason) = lifecycle.tick(now: start + .seconds(150), openCalls: 1) else {
            return XCTFail("unanswered for 20 s: closed")
        }
        XCTAssertTrue(reason.contains("keepalive"))
    }

    func testTickIntervalFollowsTheShortestTimer() {
        let lifecycle = GRPCConnectionLifecycle(idleTimeout: .seconds(300), keepaliveInterval: .seconds(60),
                                                keepaliveTimeout: .seconds(20), now: start)
        XCTAssertEqual(lifecycle.tickInterval, .seconds(5))
        XCTAssertNil(GRPCConnectionLifecycle(idleTimeout: nil, keepaliveInterval: nil, keepaliveTimeout: .seconds(1),
                                             now: start).tickInterval)
    }

    func testInboundWindowCreditsInLargeIncrements() {
        var window = InboundWindow(target: 1000)
        window.received(100)
        XCTAssertNil(window.consumed(100), "small credits wait")
        window.received(500)
        XCTAssertEqual(window.consumed(500), 600, "half the window owed: credited at once")
        XCTAssertEqual(window.remaining, 1000)
        window.received(900)
        XCTAssertEqual(window.consumed(10), 10, "a nearly closed window is credited even for little")
    }
}
