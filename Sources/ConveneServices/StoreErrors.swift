import ConveneRPC
import ConveneStore

/// The status a store failure answers a call with. The cause (SQLite's words, paths) stays
/// in the server's log; the caller learns what happened and that nothing was written. The
/// store's own refusals (a write that breaks a rule it checks itself) reach the caller as
/// what they are; a duplicate the services did not name is still ALREADY_EXISTS.
extension StoreError: RPCErrorConvertible {
    public var rpcError: RPCError {
        switch self {
        case .duplicate:
            RPCError(.alreadyExists, "a record with the same key already exists")
        case .ruleViolated(let message):
            RPCError(.failedPrecondition, message)
        case .full:
            RPCError(.resourceExhausted, "the store is full (no space left on the server's disk); nothing was written")
        case .unavailable:
            RPCError(.unavailable, "the store is unavailable (an I/O fault on the server, or its database unreachable or too busy); nothing was written")
        }
    }
}
