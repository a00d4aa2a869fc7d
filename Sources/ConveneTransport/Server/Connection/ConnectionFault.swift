import ConveneRPC
import ConveneWire

/// Everything a server connection can find wrong with what its client sends, or with how
/// long it takes. `disposition` decides, for each, whether it ends one call (END with a
/// status), ends the connection (GOAWAY and close) or is ignored: in this file only, so
/// that PROTOCOL.md's tables can be checked against one switch.
enum ConnectionFault: Hashable, Sendable {
    // Framing and handshake.
    /// The frame parser refused the bytes (bad preface, oversized or malformed frame, bad setting).
    case malformed(WireError)
    case unsupportedVersion(Preface)
    case firstFrameNotSettings(FrameType, acknowledgement: Bool = false)
    case handshakeTimeout(Duration)
    case frameTimeout(Duration)

    // Stream ids and states.
    case streamIDNotIncreasing(UInt32, last: UInt32)
    /// DATA, WINDOW_UPDATE or CANCEL for an id above the highest CALL.
    case frameOnIdleStream(FrameType, UInt32)
    /// DATA, WINDOW_UPDATE or CANCEL for a call that has ended (answered, refused, cancelled).
    case frameOnClosedStream(FrameType, UInt32)
    /// HEADERS or END, which only a server sends.
    case serverOnlyFrame(FrameType, UInt32)
    /// A CALL after a GOAWAY: not processed, safe for the client to retry elsewhere.
    case callAfterGoAway(UInt32)
    case tooManyStreams(UInt32, limit: UInt32)
    /// An unknown method, or a credential that does not grant the method's scope.
    case methodRefused(UInt32, RPCError)

    // Messages of one call.
    case dataAfterHalfClose(UInt32)
    /// A message broke a limit or a rule of §2.4 (size, inflation, encoding).
    case badMessage(UInt32, WireError)
    case tooManyRequests(UInt32, MethodDescriptor)
    case missingRequest(UInt32, MethodKind)
    case endedInsideMessage(UInt32, bufferedBytes: Int)
    case deadlineExceeded(UInt32, timeoutMicros: UInt64)
    case responseTooLarge(UInt32, size: Int, limit: Int)
    /// A message stayed incomplete past the message timeout.
    case messageIncomplete(UInt32, bytes: Int, limit: Duration)
    /// An open call on which nothing happened past the call idle limit.
    case callIdle(UInt32, Duration)

    // Resources.
    /// The server's memory budget refuses the call's bytes (the message says why).
    case overBudget(UInt32, String)
    /// A new call while the connection has too many handler tasks running.
    case tooManyHandlers(UInt32, running: Int)

    // Flow control.
    case windowExceeded(UInt32)
    case windowOverflow(UInt32)
    case connectionWindowExceeded
    case connectionWindowOverflow

    // Connection management.
    case pingFlood(maxStrikes: Int, minInterval: Duration)
    case settingsFlood(maxStrikes: Int, minInterval: Duration)
    case cancelFlood(maxCancels: Int, window: Duration)
    /// CANCELs and handlers stopped by short deadlines together past the limit (`CancelPolicy`).
    case deadlineFlood(maxCancels: Int, window: Duration)
    /// Frames that change nothing (`ConnectionConfiguration.maxNoEffectFrames`).
    case noEffectFlood(maxFrames: Int, window: Duration)
    /// More WINDOW_UPDATEs than the DATA the server sent calls for (`ConnectionConfiguration.windowUpdateAllowance`).
    case windowUpdateFlood(received: Int, dataFramesSent: Int, allowed: Int)
    case keepaliveTimeout(Duration)
    case idle(Duration)
    case overloaded(String)

    enum Disposition: Hashable, Sendable {
        /// END on the fault's stream with this status; the connection lives on.
        case endCall(StatusCode)
        /// GOAWAY with this code, then close.
        case closeConnection(GoAwayCode)
        /// Dropped: nothing is sent.
        case ignore
    }

    /// What the connection does about the fault: the one place this is decided.
    var disposition: Disposition {
        switch self {
        case .malformed(let error): .closeConnection(error == .badPreface ? .protocolError : error.goAwayCode)
        case .unsupportedVersion: .closeConnection(.unsupportedVersion)
        case .firstFrameNotSettings: .closeConnection(.protocolError)
        case .handshakeTimeout, .frameTimeout, .keepaliveTimeout, .idle: .closeConnection(.timeout)
        case .streamIDNotIncreasing, .frameOnIdleStream, .serverOnlyFrame: .closeConnection(.protocolError)
        case .frameOnClosedStream, .callAfterGoAway: .ignore
        case .tooManyStreams: .endCall(.resourceExhausted)
        case .methodRefused(_, let error): .endCall(error.code)
        case .dataAfterHalfClose, .tooManyRequests, .missingRequest, .endedInsideMessage: .endCall(.internal)
        case .badMessage(_, let error): .endCall(error.callStatus)
        case .deadlineExceeded: .endCall(.deadlineExceeded)
        case .responseTooLarge, .messageIncomplete, .callIdle: .endCall(.resourceExhausted)
        case .overBudget, .tooManyHandlers: .endCall(.resourceExhausted)
        case .windowExceeded, .windowOverflow, .connectionWindowExceeded, .connectionWindowOverflow:
            .closeConnection(.flowControlError)
        case .pingFlood, .settingsFlood, .cancelFlood, .deadlineFlood, .noEffectFlood, .windowUpdateFlood: .closeConnection(.enhanceYourCalm)
        case .overloaded: .closeConnection(.overloaded)
        }
    }

    /// How the fault counts in the refusal metrics, if it does (`ConnectionObserver.refused`):
    /// limits and abuse the server turned away, and bytes that broke the protocol. Refusals
    /// of a whole connection (its limits) are counted where it is admitted; timeouts, deadlines
    /// and refused credentials are counted elsewhere (GOAWAY codes, call statuses).
    var refusal: RefusalReason? {
        switch self {
        case .malformed(.metadataTooLarge), .malformed(.tooManyMetadataEntries): .metadataTooLarge
        case .badMessage(_, .messageTooLarge), .badMessage(_, .decompressedTooLarge), .badMessage(_, .decompressionRatio):
            .messageTooLarge
        case .malformed, .unsupportedVersion, .firstFrameNotSettings, .streamIDNotIncreasing, .frameOnIdleStream,
             .serverOnlyFrame, .badMessage, .dataAfterHalfClose, .tooManyRequests, .missingRequest, .endedInsideMessage,
             .windowExceeded, .windowOverflow, .connectionWindowExceeded, .connectionWindowOverflow:
            .malformed
        case .tooManyStreams: .streamLimit
        case .overBudget: .memoryBudget
        case .tooManyHandlers: .handlerTasks
        case .pingFlood: .pingFlood
        case .settingsFlood: .settingsFlood
        case .cancelFlood, .deadlineFlood: .cancelFlood
        case .noEffectFlood, .windowUpdateFlood: .frameFlood
        case .handshakeTimeout, .frameTimeout, .frameOnClosedStream, .callAfterGoAway, .methodRefused, .deadlineExceeded,
             .responseTooLarge, .messageIncomplete, .callIdle, .keepaliveTimeout, .idle, .overloaded:
            nil
        }
    }

    /// The stream a fault is about, if any.
    var streamID: UInt32? {
        switch self {
        case .frameOnIdleStream(_, let id), .frameOnClosedStream(_, let id), .serverOnlyFrame(_, let id),
             .callAfterGoAway(let id), .tooManyStreams(let id, _), .methodRefused(let id, _), .dataAfterHalfClose(let id),
             .badMessage(let id, _), .tooManyRequests(let id, _), .missingRequest(let id, _), .endedInsideMessage(let id, _),
             .deadlineExceeded(let id, _), .responseTooLarge(let id, _, _), .windowExceeded(let id), .windowOverflow(let id),
             .streamIDNotIncreasing(let id, _), .messageIncomplete(let id, _, _), .callIdle(let id, _), .overBudget(let id, _),
             .tooManyHandlers(let id, _):
            id
        default:
            nil
        }
    }

    /// The status message of the END, or the message of the GOAWAY.
    var message: String {
        switch self {
        case .malformed(let error):
            error.description
        case .unsupportedVersion(let offered):
            "this server speaks protocol \(Preface.current.major).\(Preface.current.minor); the client offered \(offered.major).\(offered.minor)"
        case .firstFrameNotSettings(let type, let acknowledgement):
            "the first frame after the preface must be SETTINGS, not \(acknowledgement ? "a SETTINGS acknowledgement" : "\(type)")"
        case .handshakeTimeout(let limit):
            "no preface and SETTINGS within \(limit)"
        case .frameTimeout(let limit):
            "a frame stayed incomplete for over \(limit)"
        case .streamIDNotIncreasing(let id, let last):
            "malformed CALL frame: stream id \(id) is not above the last one (\(last))"
        case .frameOnIdleStream(let type, let id):
            "\(type) frame on stream \(id), which no CALL opened"
        case .frameOnClosedStream(let type, let id):
            "\(type) frame on stream \(id), which has ended"
        case .serverOnlyFrame(let type, _):
            "only a server sends \(type)"
        case .callAfterGoAway(let id):
            "CALL on stream \(id) after GOAWAY: not processed"
        case .tooManyStreams(_, let limit):
            "too many concurrent calls: MAX_CONCURRENT_STREAMS is \(limit)"
        case .methodRefused(_, let error):
            error.message
        case .dataAfterHalfClose:
            "DATA after the client ended the stream"
        case .badMessage(_, let error):
            error.description
        case .tooManyRequests(_, let method):
            "\(method.kind) method \(method.path) received more than one request message"
        case .missingRequest(_, let kind):
            "\(kind) call ended without a request message"
        case .endedInsideMessage(_, let bytes):
            "stream ended inside a message (\(bytes) bytes of it)"
        case .deadlineExceeded(_, let micros):
            "deadline exceeded (timeout was \(micros / 1000) ms)"
        case .responseTooLarge(_, let size, let limit):
            "response of \(size) bytes is over the client's max message size \(limit)"
        case .windowExceeded(let id):
            "stream \(id) sent past its flow-control window"
        case .windowOverflow(let id):
            "WINDOW_UPDATE overflows the window of stream \(id) past \(Settings.maxWindowSize)"
        case .connectionWindowExceeded:
            "DATA past the connection's flow-control window (CONNECTION_WINDOW_SIZE)"
        case .connectionWindowOverflow:
            "WINDOW_UPDATE on stream 0 overflows the connection window past \(Settings.maxWindowSize)"
        case .messageIncomplete(_, let bytes, let limit):
            "request message incomplete for over \(limit) (\(bytes) bytes of it arrived); refused to free them"
        case .callIdle(_, let limit):
            "nothing was sent on this call, either way, for \(limit): the server ends calls that make no progress"
        case .overBudget(_, let why):
            why
        case .tooManyHandlers(_, let running):
            "\(running) handlers of this connection are still running or finishing; try again when they end"
        case .pingFlood(let strikes, let interval):
            "too many pings: more than \(strikes) in a row each less than \(interval) after the previous one"
        case .settingsFlood(let strikes, let interval):
            "too many SETTINGS: more than \(strikes) in a row each less than \(interval) after the previous one"
        case .cancelFlood(let cancels, let window):
            "too many cancelled calls: more than \(cancels) CANCELs within \(window)"
        case .deadlineFlood(let cancels, let window):
            "too many calls cut short: more than \(cancels) within \(window) cancelled, or ended at a deadline under \(CancelPolicy.shortDeadline)"
        case .windowUpdateFlood(let received, let sent, let allowed):
            "too many WINDOW_UPDATEs: \(received), where the \(sent) DATA frames the server has sent call for \(allowed) at most"
        case .noEffectFlood(let frames, let window):
            "too many frames that change nothing: more than \(frames) within \(window) (PING or SETTINGS acknowledgements not asked for, DATA, WINDOW_UPDATE or CANCEL for calls that have ended, CALLs after GOAWAY, empty DATA)"
        case .keepaliveTimeout(let limit):
            "keepalive ping not answered within \(limit)"
        case .idle(let limit):
            "no call for \(limit); closing the idle connection"
        case .overloaded(let why):
            why
        }
    }
}
