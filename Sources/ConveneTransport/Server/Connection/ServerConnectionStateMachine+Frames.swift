import ConveneRPC
import ConveneWire
import NIOCore

/// The handshake and the frames about the connection (SETTINGS, PING, GOAWAY); the frames of
/// a call go to `+Calls`.
extension ServerConnectionStateMachine {
    /// The client's preface: answered with ours and our SETTINGS, or with GOAWAY
    /// UNSUPPORTED_VERSION when it speaks another major version.
    mutating func receivePreface(_ preface: Preface, now: Instant) {
        guard phase == .awaitingPreface else { return }
        writePrefaceIfNeeded()
        guard preface.major == Preface.current.major else { return fault(.unsupportedVersion(preface), now: now) }
        write(.settings(configuration.settings))
        phase = .awaitingSettings
    }

    /// Bytes the frame parser refused: a connection error.
    mutating func receiveError(_ error: WireError, now: Instant) {
        fault(.malformed(error), now: now)
    }

    /// Takes the frame (consumed: a CALL's path and metadata, a DATA's bytes move into the
    /// call, not copied).
    mutating func receive(_ frame: consuming Frame, now: Instant) {
        let type = frame.type
        switch phase {
        case .closed, .awaitingPreface:
            return
        case .awaitingSettings:
            guard case .settings = frame else {
                let acknowledgement = if case .settingsAck = frame { true } else { false }
                return fault(.firstFrameNotSettings(type, acknowledgement: acknowledgement), now: now)
            }
        case .active, .draining:
            break
        }
        switch consume frame {
        case .settings(let settings):
            guard settingsPolicy.received(at: now) else {
                return fault(.settingsFlood(maxStrikes: settingsPolicy.maxStrikes, minInterval: settingsPolicy.minInterval), now: now)
            }
            if phase == .awaitingSettings {
                phase = .active
                // Only the first SETTINGS sets the connection window (§5); credit raises it later.
                connectionSend = ConnectionSendWindow(window: settings.connectionWindowSize)
            }
            // A later SETTINGS replaces the earlier one whole; open calls keep their windows.
            peerSettings = settings
            write(.settingsAck)
        case .settingsAck:
            if settingsAcknowledged { noteNoEffect(now: now) }
            settingsAcknowledged = true
        case .ping(let opaque, let ack):
            receivePing(opaque, ack: ack, now: now)
        case .goAway:
            // The client opens no more calls: close once the open ones end.
            if phase == .active { phase = .draining }
            closeIfDrained()
        case .call(let id, let start):
            openCall(id, start, now: now)
        case .data(let id, let payload, let endStream):
            receiveData(id, payload, endStream: endStream, now: now)
        case .cancel(let id, _):
            receiveCancel(id, now: now)
        case .windowUpdate(let id, let increment):
            receiveWindowUpdate(id, increment: increment, now: now)
        case .headers(let id, _), .end(let id, _):
            fault(.serverOnlyFrame(type, id), now: now)
        }
    }

    private mutating func receivePing(_ opaque: UInt64, ack: Bool, now: Instant) {
        if ack {
            // An acknowledgement of no PING of ours changes nothing.
            if !keepalive.acknowledged(opaque) { noteNoEffect(now: now) }
            return
        }
        guard pingPolicy.received(at: now) else {
            return fault(.pingFlood(maxStrikes: pingPolicy.maxStrikes, minInterval: pingPolicy.minInterval), now: now)
        }
        write(.ping(opaque, ack: true))
    }
}
