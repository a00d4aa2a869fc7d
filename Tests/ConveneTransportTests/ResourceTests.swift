@testable import ConveneTransport
import ConveneRPC
import ConveneWire
import NIOCore
import XCTest

/// PROTOCOL.md §4 and §5: the connection window both ways, the message timeout, the call
/// idle limit, the memory budget, the bound on handler tasks and synchronous calls that
/// wait while responses wait for the client's credit. In memory, with fixed instants.
final class ResourceTests: XCTestCase {
    typealias H = MachineHarness

    static func settings(window: UInt32 = 1 << 20, connectionWindow: UInt32 = Settings.defaultConnectionWindowSize) -> Settings {
        var settings = Settings()
        settings.initialWindowSize = window
        settings.connectionWindowSize = connectionWindow
        return settings
    }

    static func configuration(_ change: (inout ConnectionConfiguration) -> Void) -> ConnectionConfiguration {
        var configuration = H.configuration
        change(&configuration)
        return configuration
    }

    static func connectionCredit(_ frames: [Frame]) -> [UInt32] {
        frames.compactMap { if case .windowUpdate(0, let increment) = $0 { increment } else { nil } }
    }

    // MARK: - The connection window

    func testDataPastTheConnectionWindowIsAFlowControlErrorEvenWithinEachStreamsWindow() {
        var h = H(configuration: Self.configuration { $0.settings.connectionWindowSize = 100_000 })
        h.handshake()
        // Three streams, each well within its own 1 MiB window, 120,000 bytes together.
        let part = Frame.data(streamID: 1, ByteBuffer(repeating: 0, count: 40_000), endStream: false)
        h.read([H.call(1, H.stream), H.call(3, H.stream), H.call(5, H.stream), part,
                .data(streamID: 3, ByteBuffer(repeating: 0, count: 40_000), endStream: false),
                .data(streamID: 5, ByteBuffer(repeating: 0, count: 40_000), endStream: false)], at: 1)
        let goAway = H.goAway(h.written())
        XCTAssertEqual(goAway?.code, .flowControlError)
        XCTAssertEqual(goAway?.message, "DATA past the connection's flow-control window (CONNECTION_WINDOW_SIZE)")
    }

    func testBytesOfAnIncompleteMessageAreNotCreditedToTheConnectionUntilItIsTaken() {
        var h = H(configuration: Self.configuration { $0.settings.connectionWindowSize = 100_000 })
        h.handshake()
        // 60,000 bytes of a 70,000-byte message: the stream gets its partial credit, the connection none.
        var prefix = ByteBuffer()
        prefix.writeMultipleIntegers(UInt8(0), UInt32(70_000))
        prefix.writeRepeatingByte(1, count: 59_995)
        h.read([H.call(1, H.stream), .data(streamID: 1, prefix, endStream: false)], at: 1)
        let frames = h.written()
        XCTAssertEqual(Self.connectionCredit(frames), [], "incomplete bytes stay counted on the connection")
        XCTAssertEqual(h.machine.connectionReceive.held, 60_000)
        // The budget counts the bytes and the room made for the rest (its storage rounded up).
        XCTAssertGreaterThanOrEqual(h.machine.account.held - H.openCost(H.stream), 70_005)
        XCTAssertLessThanOrEqual(h.machine.account.held - H.openCost(H.stream), 2 * 70_005)
        // The rest of it: the message is whole and handed to the handler, still not taken.
        h.read([.data(streamID: 1, ByteBuffer(repeating: 1, count: 10_005), endStream: false)], at: 2)
        XCTAssertEqual(Self.connectionCredit(h.written()), [])
        // The handler takes it: 70,005 bytes released, over half the window: credit on stream 0.
        h.machine.requestConsumed(streamID: 1)
        XCTAssertEqual(Self.connectionCredit(h.written()), [70_005])
        XCTAssertEqual(h.machine.connectionReceive.held, 0)
    }

    func testACallThatEndsReleasesWhatItHeldAndDataForAClosedCallIsCreditedAtOnce() {
        var h = H(configuration: Self.configuration { $0.settings.connectionWindowSize = 100_000 })
        h.handshake()
        h.read([H.call(1, H.stream), .data(streamID: 1, ByteBuffer(repeating: 0, count: 30_000), endStream: false),
                .cancel(streamID: 1, .cancelled),
                .data(streamID: 1, ByteBuffer(repeating: 0, count: 30_000), endStream: false)], at: 1)
        XCTAssertEqual(Self.connectionCredit(h.written()), [60_000])
        XCTAssertEqual(h.machine.connectionReceive.held, 0)
        XCTAssertEqual(h.machine.account.held, 0)
    }

    func testResponsesWaitForTheClientsConnectionWindowAndResumeInOrder() {
        var h = H()
        h.handshake(settings: Self.settings(connectionWindow: 65_536))
        h.read([H.call(1, H.stream), H.call(3, H.stream)], at: 1)
        h.machine.enqueue(streamID: 1, ByteBuffer(repeating: 1, count: 50_000), encoding: .identity, uncompressedSize: 50_000,
                          completion: 1, now: h.at(2))
        h.machine.enqueue(streamID: 3, ByteBuffer(repeating: 3, count: 50_000), encoding: .identity, uncompressedSize: 50_000,
                          completion: 3, now: h.at(2))
        h.collect()
        // Stream 1's message fits; stream 3's would not fit whole, so it does not start.
        let first = h.written()
        XCTAssertEqual(first.reduce(0) { if case .data(3, _, _) = $1 { $0 + 1 } else { $0 } }, 0)
        XCTAssertEqual(first.reduce(0) { if case .data(1, let payload, _) = $1 { $0 + payload.readableBytes } else { $0 } }, 50_005)
        XCTAssertEqual(h.machine.outboundQueued, 50_005)
        h.read([.windowUpdate(streamID: 0, increment: 50_000)], at: 3)
        let second = h.written()
        XCTAssertEqual(second.reduce(0) { if case .data(3, let payload, _) = $1 { $0 + payload.readableBytes } else { $0 } }, 50_005)
        XCTAssertEqual(h.machine.outboundQueued, 0)
        XCTAssertTrue(h.actions.contains { if case .completeSend(3) = $0 { true } else { false } })
    }

    func testAConnectionWindowUpdatePastTheMaximumIsAFlowControlError() {
        var h = H()
        h.handshake()
        h.read([.windowUpdate(streamID: 0, increment: Settings.maxWindowSize)], at: 1)
        XCTAssertEqual(H.goAway(h.written())?.code, .flowControlError)
    }

    // MARK: - Time limits of a call

    func testAMessageLeftIncompleteIsRefusedAfterTheMessageTimeout() {
        var h = H(configuration: Self.configuration { $0.messageTimeout = .seconds(30) })
        h.handshake()
        var prefix = ByteBuffer()
        prefix.writeMultipleIntegers(UInt8(0), UInt32(1000), UInt8(9))
        h.read([H.call(1, H.stream), .data(streamID: 1, prefix, endStream: false)], at: 1)
        XCTAssertEqual(h.wakeUps.last, 6, "checked every sixth of the limit")
        h.tick(at: 30)
        XCTAssertEqual(H.ends(h.written()), [:], "29 s incomplete")
        // Checked at 30 s and next at 35 s: refused within a sixth of the limit after it.
        h.tick(at: 35)
        let end = H.ends(h.written())[1]
        XCTAssertEqual(end?.code, .resourceExhausted)
        XCTAssertEqual(end?.message, "request message incomplete for over 30.0 seconds (6 bytes of it arrived); refused to free them")
        XCTAssertEqual(h.machine.account.held, 0)
    }

    func testOpenCallsAreCheckedEverySixthOfTheShorterLimitButNotMoreThanOnceASecond() {
        var h = H(configuration: Self.configuration {
            $0.messageTimeout = .seconds(30)
            $0.callIdleTimeout = .seconds(12)
        })
        h.handshake()
        h.read([H.call(1, H.stream)], at: 1)
        XCTAssertEqual(h.wakeUps.last, 3, "a sixth of the 12 s idle limit, the shorter one")
        var short = H(configuration: Self.configuration { $0.messageTimeout = .seconds(3) })
        short.handshake()
        short.read([H.call(1, H.stream)], at: 1)
        XCTAssertEqual(short.wakeUps.last, 2, "a sixth of 3 s is under a second: every second")
    }

    func testAnOpenCallWithNoProgressEndsAfterTheIdleLimitButAHalfClosedOneWaitsForItsServer() {
        var h = H(configuration: Self.configuration { $0.callIdleTimeout = .seconds(60) })
        h.handshake()
        h.read([H.call(1, H.stream), H.call(3, H.serverStream), H.request(3)], at: 0)
        h.read([.data(streamID: 1, H.message([1]), endStream: false)], at: 30)
        h.tick(at: 80)
        XCTAssertEqual(H.ends(h.written()), [:], "call 1 progressed at 30 s")
        h.tick(at: 90)
        let ends = H.ends(h.written())
        XCTAssertEqual(ends[1]?.code, .resourceExhausted)
        XCTAssertNil(ends[3], "a half-closed call waits for the server, however long")
        XCTAssertEqual(h.machine.streamState(3), .halfClosed)
    }

    // MARK: - Work and memory

    func testMoreThan200CancelsWithin30SecondsAreAFlood() {
        var h = H(configuration: Self.configuration {
            $0.settings.maxConcurrentStreams = 1000
            $0.maxHandlerTasks = 1000  // the harness runs no task: none would finish
        })
        h.handshake()
        var frames: [Frame] = []
        for i in 0..<200 { frames += [H.call(UInt32(2 * i + 1), H.stream), .cancel(streamID: UInt32(2 * i + 1), .cancelled)] }
        h.read(frames, at: 1)
        XCTAssertNil(H.goAway(h.written()), "200 are fine")
        // A new window 30 s after the first CANCEL: 200 more are fine too.
        frames = []
        for i in 200..<400 { frames += [H.call(UInt32(2 * i + 1), H.stream), .cancel(streamID: UInt32(2 * i + 1), .cancelled)] }
        h.read(frames, at: 31)
        XCTAssertNil(H.goAway(h.written()))
        h.read([H.call(801, H.stream), .cancel(streamID: 801, .cancelled)], at: 32)
        XCTAssertEqual(H.goAway(h.written())?.code, .enhanceYourCalm)
    }

    func testHandlerTasksAreBoundedCancelledOnesIncludedUntilTheyFinish() {
        var h = H(configuration: Self.configuration {
            $0.maxHandlerTasks = 2
            $0.settings.maxConcurrentStreams = 10
        })
        h.handshake()
        h.read([H.call(1, H.stream), .cancel(streamID: 1, .cancelled), H.call(3, H.stream), H.call(5, H.stream)], at: 1)
        let end = H.ends(h.written())[5]
        XCTAssertEqual(end?.code, .resourceExhausted)
        XCTAssertEqual(end?.message, "2 handlers of this connection are still running or finishing; try again when they end")
        // Synchronous calls are not handler tasks.
        h.read([H.call(7), H.request(7)], at: 2)
        XCTAssertEqual(H.ends(h.written())[7]?.code, .ok)
        h.machine.handlerFinished(streamID: 1, .failure(CancellationError()), now: h.at(3))
        h.read([H.call(9, H.stream)], at: 3)
        XCTAssertNil(H.ends(h.written())[9], "room again once the cancelled task finished")
    }

    func testOverTheBudgetAHeavyConnectionIsRefusedWhileALightOneIsServed() {
        let budget = MemoryBudget(limit: 1 << 20)
        let configuration = Self.configuration {
            $0.budget = budget
            $0.settings.connectionWindowSize = 2 << 20
            $0.settings.maxConcurrentStreams = 100
        }
        var heavy = H(configuration: configuration)
        heavy.handshake()
        // 50,000 bytes of an incomplete 65,536-byte message on each of 11 calls: each holds
        // 64 KiB (its bytes and the room made for its rest) and its task (`OpenCallCost`). The
        // 11th passes three quarters of the budget, and its data is refused.
        var frames: [Frame] = []
        for i in 0..<11 {
            let id = UInt32(2 * i + 1)
            var partial = ByteBuffer()
            partial.writeMultipleIntegers(UInt8(0), UInt32(65_536 - 5))
            partial.writeRepeatingByte(0, count: 50_000 - 5)
            frames += [H.call(id, H.stream), .data(streamID: id, partial, endStream: false)]
        }
        heavy.read(frames, at: 1)
        let ends = H.ends(heavy.written())
        XCTAssertEqual(Array(ends.keys), [21])
        XCTAssertEqual(ends[21]?.code, .resourceExhausted)
        XCTAssertTrue(ends[21]?.message.hasPrefix("the server's memory budget for buffered data is spent") ?? false)
        XCTAssertLessThanOrEqual(budget.current, budget.limit)
        XCTAssertGreaterThanOrEqual(budget.current, 10 * (65_536 + H.openCost(H.stream)), "what the 10 calls hold, room included")
        // Someone else takes the budget past the threshold: the heavy connection gets no new call.
        var other = BudgetAccount(budget: budget)
        other.charge(200_000)
        heavy.read([H.call(101), H.request(101)], at: 2)
        XCTAssertEqual(H.ends(heavy.written())[101]?.code, .resourceExhausted)
        // A light connection is still served, up to the limit.
        var light = H(configuration: configuration)
        light.handshake()
        light.read([H.call(1), H.request(1)], at: 3)
        XCTAssertEqual(H.ends(light.written())[1]?.code, .ok)
        other.close()
        heavy.machine.connectionClosed()
        light.machine.connectionClosed()
        XCTAssertEqual(budget.current, 0, "everything goes back when the connections close")
        XCTAssertGreaterThan(budget.refused, 0)
    }

    func testTinyMessagesKeptForAHandlerCountWhatHoldingThemCostsAndNoReadBuffer() {
        var h = H()
        h.handshake()
        h.read([H.call(1, H.stream)], at: 1)
        let opened = h.machine.account.held
        // 1,000 messages of 3 bytes in one 64 KiB buffer (a read), none taken yet.
        var payload = ByteBufferAllocator().buffer(capacity: 64 << 10)
        for _ in 0..<1_000 { payload.writeMultipleIntegers(UInt8(0), UInt32(3), UInt8(1), UInt8(2), UInt8(3)) }
        h.read([.data(streamID: 1, payload, endStream: false)], at: 1)
        XCTAssertEqual(h.machine.account.held - opened, 1_000 * (8 + KeptMessage.overhead))
        let delivered = h.actions.compactMap { if case .deliverRequest(1, let bytes) = $0 { bytes } else { nil } }
        XCTAssertEqual(delivered.count, 1_000)
        XCTAssertTrue(delivered.allSatisfy { $0.storageCapacity < 1_024 }, "a kept message does not hold the read it came in")
        h.machine.requestConsumed(streamID: 1)
        XCTAssertEqual(h.machine.account.held - opened, 999 * (8 + KeptMessage.overhead))
        h.read([.cancel(streamID: 1, .cancelled)], at: 2)
        XCTAssertEqual(h.machine.account.held, 0, "a call that ends gives back what its kept messages counted")
    }

    func testTinyMessagesNeverTakenAreRefusedByTheBudgetLongBeforeTheirBytesWouldBe() {
        let budget = MemoryBudget(limit: 1 << 20)
        var h = H(configuration: Self.configuration { $0.budget = budget })
        h.handshake()
        h.read([H.call(1, H.stream)], at: 1)
        // 100 KiB of 8-byte messages: a tenth of the budget in bytes, three times it in what
        // holding them costs. The call is refused before the last of them.
        var frames: [Frame] = []
        for _ in 0..<100 {
            var payload = ByteBuffer()
            for _ in 0..<128 { payload.writeMultipleIntegers(UInt8(0), UInt32(3), UInt8(1), UInt8(2), UInt8(3)) }
            frames.append(.data(streamID: 1, payload, endStream: false))
        }
        h.read(frames, at: 1)
        XCTAssertEqual(H.ends(h.written())[1]?.code, .resourceExhausted)
        XCTAssertLessThanOrEqual(budget.current, budget.limit)
        h.machine.connectionClosed()
        XCTAssertEqual(budget.current, 0)
    }

    func testTheRoomMadeForAnIncompleteMessageCountsUntilItIsTaken() {
        var h = H()
        h.handshake()
        h.read([H.call(1, H.stream)], at: 1)
        let opened = h.machine.account.held
        // The start of a 500,000-byte message: the server makes room for all of it (within
        // the stream's credit), and counts the room with the 1,000 bytes received.
        var partial = ByteBuffer()
        partial.writeMultipleIntegers(UInt8(0), UInt32(500_000))
        partial.writeRepeatingByte(7, count: 995)
        h.read([.data(streamID: 1, partial, endStream: false)], at: 1)
        XCTAssertGreaterThanOrEqual(h.machine.account.held - opened, 500_005)
        XCTAssertLessThan(h.machine.account.held - opened, 600_000)
        // Its rest arrives: the message is delivered, and only what keeping it costs is left.
        var rest = ByteBuffer()
        rest.writeRepeatingByte(7, count: 499_005)
        h.read([.data(streamID: 1, rest, endStream: false)], at: 1)
        XCTAssertEqual(H.ends(h.written()), [:])
        XCTAssertEqual(h.machine.account.held - opened, 500_005 + KeptMessage.overhead)
        h.read([.cancel(streamID: 1, .cancelled)], at: 2)
        XCTAssertEqual(h.machine.account.held, 0)
    }

    func testSynchronousCallsWaitWhileResponsesWaitForTheClientsCredit() {
        var h = H(configuration: Self.configuration {
            $0.maxOutboundBuffered = 100_000
            $0.settings.maxConcurrentStreams = 10
        })
        // The client grants 10 bytes per stream and never more: each 70,000-byte answer waits.
        h.handshake(settings: Self.settings(window: 10))
        h.read([H.call(1, H.big), H.request(1), H.call(3, H.big), H.request(3), H.call(5, H.big), H.request(5)], at: 1)
        _ = h.written()
        XCTAssertEqual(h.machine.outboundQueued, 2 * 69_995)
        XCTAssertEqual(Array(h.machine.deferredSynchronous), [5], "call 5 waits: it has not run")
        h.read([.windowUpdate(streamID: 1, increment: 100_000)], at: 2)
        let frames = h.written()
        XCTAssertEqual(H.ends(frames)[1]?.code, .ok)
        XCTAssertTrue(frames.contains { if case .data(5, _, _) = $0 { true } else { false } }, "call 5 ran once there was room")
        XCTAssertEqual(Array(h.machine.deferredSynchronous), [])
    }

    func testMetadataCountsAgainstTheBudgetWhileTheCallIsOpen() {
        var h = H()
        h.handshake()
        var metadata = Metadata()
        for i in 0..<100 { metadata.add("k\(i)", "v") }
        h.read([.call(streamID: 1, CallStart(path: H.stream.path, metadata: metadata))], at: 1)
        let cost = h.machine.account.held
        XCTAssertEqual(cost, metadata.countedSize + H.stream.path.utf8.count + Metadata.entryOverhead + OpenCallCost.task)
        XCTAssertGreaterThan(cost, 100 * Metadata.entryOverhead)
        h.read([.cancel(streamID: 1, .cancelled)], at: 2)
        XCTAssertEqual(h.machine.account.held, 0)
    }
}

extension MachineHarness {
    /// What a call with no metadata counts against the budget: its path, and keeping it open
    /// (`OpenCallCost`: a task for the harness's streaming methods, none for its unary ones).
    static func openCost(_ method: MethodDescriptor) -> Int {
        Metadata().countedSize + method.path.utf8.count + Metadata.entryOverhead
            + (method.kind == .unary ? OpenCallCost.inPlace : OpenCallCost.task)
    }
}
