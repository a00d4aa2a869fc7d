import ConveneRPC

/// The server's connection limits, shared by its listeners (native and gRPC): connections in
/// all (`maxConnections`), connections from one client address (`maxPerAddress`), and file
/// descriptors. A connection beyond a limit is answered with GOAWAY OVERLOADED (native) or
/// its HTTP/2 equivalent, whose message names the limit, and closed.
public final class ConnectionLimits: Sendable {
    public let maxConnections: Int
    public let maxPerAddress: Int
    private let state = Locked(State())

    private struct State {
        var total = 0
        var perAddress: [String: Int] = [:]
        var descriptorsExhausted = false
        var refusedSinceLog = 0
    }

    public init(maxConnections: Int = 16_384, maxPerAddress: Int = 256) {
        self.maxConnections = max(1, maxConnections)
        self.maxPerAddress = max(1, maxPerAddress)
    }

    /// What `admit` decided.
    public enum Admission: Sendable, Equatable {
        /// Counted: call `release(address:)` when the connection closes.
        case admitted
        /// Not counted; the message names the limit, the reason is its kind (for metrics).
        case refused(String, RefusalReason)
    }

    /// Counts a new connection from `address` (an IP address, without port), or says why not.
    public func admit(address: String) -> Admission {
        state.withLock { state in
            if state.descriptorsExhausted {
                state.refusedSinceLog += 1
                return .refused("the server is out of file descriptors; try again later", .connectionLimit)
            }
            guard state.total < maxConnections else {
                state.refusedSinceLog += 1
                return .refused("the server is at its limit of \(maxConnections) connections; try again later", .connectionLimit)
            }
            let fromAddress = state.perAddress[address, default: 0]
            guard fromAddress < maxPerAddress else {
                state.refusedSinceLog += 1
                return .refused("the server is at its limit of \(maxPerAddress) connections from \(address) (per address); close some first", .perAddressLimit)
            }
            state.total += 1
            state.perAddress[address] = fromAddress + 1
            return .admitted
        }
    }

    /// An admitted connection from `address` closed.
    public func release(address: String) {
        state.withLock { state in
            state.total -= 1
            switch state.perAddress[address] {
            case 1?, nil: state.perAddress[address] = nil
            case let count?: state.perAddress[address] = count - 1
            }
        }
    }

    /// Connections counted now.
    public var count: Int { state.withLock { $0.total } }

    /// Connections counted now from `address`.
    public func count(from address: String) -> Int { state.withLock { $0.perAddress[address, default: 0] } }

    /// Whether new connections are refused because descriptors ran out.
    public var descriptorsExhausted: Bool {
        get { state.withLock { $0.descriptorsExhausted } }
        set { state.withLock { $0.descriptorsExhausted = newValue } }
    }

    /// Connections refused since the last call (for a periodic log line).
    public func takeRefusedCount() -> Int {
        state.withLock { state in
            defer { state.refusedSinceLog = 0 }
            return state.refusedSinceLog
        }
    }
}
