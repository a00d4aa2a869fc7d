import ConveneRPC
import ConveneWire
import NIOCore
import NIOHTTP2

/// Inbound flow control of a gRPC connection.
///
/// What the connection holds of requests is bounded by the streams' windows and the room
/// for large messages (`GRPCRequestReservations`): a stream's window comes back for the
/// messages its handler has taken, and, for a message with reserved room, in advance for all
/// of it. The connection's window bounds only bytes in flight: it is topped up from what
/// swift-nio-http2 reports of it, which counts every DATA frame, those of calls already
/// ended included (they never reach this handler).
extension GRPCConnectionHandler {
    /// Credits the stream's window with what it may get back, and the budget with what is no
    /// longer held.
    func creditConsumed(_ stream: GRPCServerStream) {
        // Asked even when nothing new is creditable: credit owed in a batch is due once the
        // client is down to less than half its window.
        let bytes = stream.takeStreamCreditable()
        if !stream.requestClosed, let increment = stream.inbound.consumed(bytes) {
            write(HTTP2Frame(streamID: stream.id, payload: .windowUpdate(windowSizeIncrement: increment)))
        }
        account.release(stream.takeReleasable())
    }

    /// The handler took a request message: its window, its bytes and its room come back.
    func messageTaken(_ stream: GRPCServerStream) {
        let room = stream.dequeueOne()
        if stream.keptForHandler > 0 {
            stream.keptForHandler -= 1
            account.release(KeptMessage.overhead)
        }
        creditConsumed(stream)
        releaseRoom(room)
    }

    /// A call that ended gives back whatever it still held, and stops waiting for room.
    func releaseWindow(_ stream: GRPCServerStream) {
        account.release(stream.takeAllUnreleased())
        account.release(stream.openCost)
        account.release(stream.keptForHandler * KeptMessage.overhead)
        stream.keptForHandler = 0
        if stream.awaitedReservation > 0 {
            stream.awaitedReservation = 0
            grant(reservations.cancel(stream.id))
        }
        releaseRoom(stream.reservedHeld)
    }

    /// Asks for room for the message being received when it is larger than the stream's
    /// window (its prefix has arrived); the window opens for it once the room is there.
    func reserveRoomIfNeeded(_ stream: GRPCServerStream) {
        guard stream.currentReservation == 0, stream.awaitedReservation == 0,
              let size = stream.deframer.pendingMessageWireSize, size > configuration.streamWindow
        else { return }
        if reservations.reserve(size, for: stream.id) {
            stream.grantReservation(size)
        } else {
            stream.awaitedReservation = size
        }
    }

    private func releaseRoom(_ bytes: Int) {
        guard bytes > 0 else { return }
        grant(reservations.release(bytes))
    }

    /// Waiting streams have their room: each one's window opens for its whole message, and
    /// the message timeout counts from now (the wait was the server's, not the client's).
    private func grant(_ granted: [GRPCRequestReservations.Grant]) {
        var unused = 0
        for (id, bytes) in granted {
            guard let stream = streams[id], stream.awaitedReservation == bytes else {
                unused += bytes  // ended meanwhile (`releaseWindow` cancels waits: a safeguard)
                continue
            }
            stream.grantReservation(bytes)
            stream.incompleteSince = .now()
            stream.lastProgress = .now()
            creditConsumed(stream)
        }
        if !granted.isEmpty { scheduleFlush() }
        releaseRoom(unused)
    }

    /// Tops the connection's window up to its target when swift-nio-http2 reports it below
    /// half (or at once, `always`), one WINDOW_UPDATE at a time: a second one written before
    /// the first is processed would count the same bytes twice. A low report that arrives
    /// meanwhile is kept and looked at again once that update is out, so the client is never
    /// left with no window and nothing to report it.
    func creditConnection(to reported: Int, always: Bool = false) {
        let target = configuration.connectionWindow
        guard always || reported < target / 2 else { return }
        guard !connectionCreditPending else {
            connectionReportWhilePending = reported
            return
        }
        let increment = min(target - reported, Int(Int32.max) - max(reported, 0))
        guard increment > 0, let context else { return }
        connectionCreditPending = true
        let promise = context.eventLoop.makePromise(of: Void.self)
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        promise.futureResult.whenComplete { _ in loopBound.value.connectionCreditSent() }
        write(HTTP2Frame(streamID: .rootStream, payload: .windowUpdate(windowSizeIncrement: increment)), promise: promise)
    }

    /// The pending WINDOW_UPDATE is out (or the connection is gone). A report kept meanwhile
    /// may already count it: crediting again then gives the client at most one target more,
    /// which only bytes in flight use (the stream windows bound what is held).
    ///
    /// This runs from the write's promise, which swift-nio-http2 completes while it flushes;
    /// a frame written from within that flush can reach its outbound buffer unflushed, behind
    /// DATA it then sends (its debug builds trap on exactly that). So the next credit goes out
    /// on the next turn of the event loop.
    private func connectionCreditSent() {
        connectionCreditPending = false
        guard let reported = connectionReportWhilePending, !isClosed, let context else { return }
        connectionReportWhilePending = nil
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let handler = loopBound.value
            guard !handler.isClosed else { return }
            handler.creditConnection(to: reported)
            handler.scheduleFlush()
        }
    }
}
