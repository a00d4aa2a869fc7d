/// The failure of a call: a non-OK status code, a message for the caller, and trailing metadata.
///
/// Handlers throw it to end a call with that status. Any other error a handler throws
/// becomes INTERNAL with a generic message, so internals never leak to callers.
public struct RPCError: Error, Hashable, Sendable, CustomStringConvertible {
    public var code: StatusCode
    public var message: String
    public var metadata: Metadata

    public init(_ code: StatusCode, _ message: String, metadata: Metadata = Metadata()) {
        precondition(code != .ok, "an RPCError cannot have status OK")
        self.code = code
        self.message = message
        self.metadata = metadata
    }

    public var description: String { "\(code.name): \(message)" }

    /// The status a handler's thrown error ends the call with.
    public static func from(_ error: any Error) -> RPCError {
        if let rpc = error as? RPCError { return rpc }
        if let convertible = error as? any RPCErrorConvertible { return convertible.rpcError }
        if error is CancellationError { return RPCError(.cancelled, "call was cancelled") }
        return RPCError(.internal, "internal error")
    }
}

/// An error type that knows which status it should be reported with.
public protocol RPCErrorConvertible: Error {
    var rpcError: RPCError { get }
}
