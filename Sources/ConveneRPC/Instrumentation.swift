/// Which listener a call came through.
public enum TransportKind: String, Sendable, CaseIterable {
    case native
    case grpc
    /// Calls made inside the server (plugins calling host services, in-memory clients).
    case inProcess = "in-process"
}

/// What observes the calls of one method, made for it when it is registered, so that the
/// transport reaches it without a lookup: a call's end costs one call on this.
public protocol MethodInstrument: AnyObject, Sendable {
    /// A call ended: its status, and how long it took from its first frame to its last.
    func callEnded(transport: TransportKind, code: StatusCode, duration: Duration)
}

/// Observes a router's methods (metrics) and may wrap their handlers (tracing). Set when the
/// router is made; every method registered later, plugins' included, gets an instrument.
public protocol RouterInstrumentation: Sendable {
    func instrument(for descriptor: MethodDescriptor, owner: String) -> any MethodInstrument
    /// The handler served for `descriptor` (the same one when there is nothing to wrap).
    func wrap(_ handler: MethodHandler, for descriptor: MethodDescriptor) -> MethodHandler
    /// A call of a path the router does not serve (answered UNIMPLEMENTED).
    func unknownMethodCalled(transport: TransportKind)
}

/// Observes connections: how many, the bytes they carry, and why they end or are refused.
/// Label values are bounded: a transport, a GOAWAY code's name, a reason from a fixed list.
public protocol ConnectionObserver: Sendable {
    func connectionOpened(_ transport: TransportKind)
    func connectionClosed(_ transport: TransportKind)
    func bytes(_ transport: TransportKind, read: Int, written: Int)
    func goAway(_ transport: TransportKind, code: String)
    func refused(_ transport: TransportKind, reason: RefusalReason)
}

/// Why a connection or a call was refused before a handler ran.
public enum RefusalReason: String, Sendable, CaseIterable {
    case connectionLimit = "connection-limit"
    case perAddressLimit = "per-address-limit"
    case streamLimit = "stream-limit"
    case messageTooLarge = "message-too-large"
    case metadataTooLarge = "metadata-too-large"
    case memoryBudget = "memory-budget"
    /// A new call while the connection's handler tasks are at their bound.
    case handlerTasks = "handler-tasks"
    case pingFlood = "ping-flood"
    /// SETTINGS sent faster than PINGs may be (native listener): each one costs an ACK.
    case settingsFlood = "settings-flood"
    /// Too many CANCELs of open calls (native listener).
    case cancelFlood = "cancel-flood"
    /// Too many RST_STREAMs of open streams (gRPC listener, CVE-2023-44487).
    case rapidReset = "rapid-reset"
    /// Too many frames that change nothing (native listener): acknowledgements not asked
    /// for, frames for calls that have ended, empty DATA.
    case frameFlood = "frame-flood"
    /// Bytes or frames that break the protocol (framing, stream ids, flow control).
    case malformed
}
