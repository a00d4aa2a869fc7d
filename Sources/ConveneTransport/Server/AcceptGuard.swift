import Logging
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Keeps a listener answering when file descriptors run out, instead of spinning.
///
/// When `accept` fails with EMFILE or ENFILE, the socket stays readable and NIO's legacy
/// bootstrap would call `accept` again at once, forever, at 100 % CPU, logging nothing. This
/// handler, on the listening channel, keeps one spare descriptor: on the first such failure
/// it closes the spare, so that the next `accept` succeeds, and marks the limits exhausted,
/// so that connection is answered GOAWAY OVERLOADED ("out of file descriptors") and closed.
/// It takes the spare back as soon as a descriptor is free again. Without a spare it waits
/// 100 ms before accepting again. It logs the condition, at most every 10 s.
package final class AcceptGuard: ChannelDuplexHandler {
    package typealias InboundIn = any Channel
    package typealias InboundOut = any Channel
    package typealias OutboundIn = any Channel

    private let limits: ConnectionLimits
    private let logger: Logger
    private let listener: String
    private var spare: CInt = -1
    private var backoff: Scheduled<Void>?
    private var retake: Scheduled<Void>?
    private var readWaiting = false
    private var lastLog: NIODeadline?

    static let backoffDelay = TimeAmount.milliseconds(100)

    package init(limits: ConnectionLimits, logger: Logger, listener: String) {
        self.limits = limits
        self.logger = logger
        self.listener = listener
    }

    package func handlerAdded(context: ChannelHandlerContext) {
        spare = Self.openSpare()
    }

    package func handlerRemoved(context: ChannelHandlerContext) {
        backoff?.cancel()
        retake?.cancel()
        if spare >= 0 { closeDescriptor(spare) }
        spare = -1
    }

    package func read(context: ChannelHandlerContext) {
        if backoff != nil {
            readWaiting = true
        } else {
            context.read()
        }
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // A connection came while the spare is spent: take it back once one is free.
        if spare < 0 { scheduleRetake(context: context, in: .milliseconds(10)) }
        context.fireChannelRead(data)
    }

    package func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let io = error as? IOError, [EMFILE, ENFILE, ENOBUFS, ENOMEM].contains(io.errnoCode) else {
            return context.fireErrorCaught(error)
        }
        logOutOfDescriptors(error)
        if spare >= 0 {
            // The next accept gets this descriptor, and that connection is refused.
            closeDescriptor(spare)
            spare = -1
            limits.descriptorsExhausted = true
        } else if backoff == nil {
            let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
            let contextBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            backoff = context.eventLoop.scheduleTask(in: Self.backoffDelay) {
                bound.value.backoffEnded(context: contextBound.value)
            }
        }
    }

    private func backoffEnded(context: ChannelHandlerContext) {
        backoff = nil
        retakeSpare()
        if readWaiting {
            readWaiting = false
            context.read()
        }
    }

    private func scheduleRetake(context: ChannelHandlerContext, in delay: TimeAmount) {
        guard retake == nil else { return }
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let contextBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        retake = context.eventLoop.scheduleTask(in: delay) {
            let handler = bound.value
            handler.retake = nil
            handler.retakeSpare()
            if handler.spare < 0 { handler.scheduleRetake(context: contextBound.value, in: Self.backoffDelay) }
        }
    }

    private func retakeSpare() {
        guard spare < 0 else { return }
        spare = Self.openSpare()
        if spare >= 0 { limits.descriptorsExhausted = false }
    }

    private func logOutOfDescriptors(_ error: any Error) {
        let now = NIODeadline.now()
        if let lastLog, now - lastLog < .seconds(10) { return }
        lastLog = now
        logger.error("out of file descriptors: new connections are refused with OVERLOADED until some close", metadata: [
            "listener": "\(listener)", "error": "\(error)", "refused": "\(limits.takeRefusedCount())",
        ])
    }

    private static func openSpare() -> CInt {
        open("/dev/null", O_RDONLY | O_CLOEXEC)
    }
}

private func closeDescriptor(_ descriptor: CInt) {
    _ = close(descriptor)
}
