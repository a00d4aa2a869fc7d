import ConveneDomain
import ConveneRPC
import ConveneStore
import Foundation
import SwiftProtobuf

extension RuleViolation: RPCErrorConvertible {
    public var rpcError: RPCError {
        switch kind {
        case .permissionDenied: RPCError(.permissionDenied, message)
        case .failedPrecondition: RPCError(.failedPrecondition, message)
        case .invalidArgument: RPCError(.invalidArgument, message)
        case .notFound: RPCError(.notFound, message)
        case .alreadyExists: RPCError(.alreadyExists, message)
        }
    }
}

/// The store's own refusals (a write that breaks a rule it checks itself) reach the caller as
/// what they are; a duplicate the services did not name is still ALREADY_EXISTS.
extension StoreError: RPCErrorConvertible {
    public var rpcError: RPCError {
        switch self {
        case .duplicate: RPCError(.alreadyExists, "a record with the same key already exists")
        case .ruleViolated(let message): RPCError(.failedPrecondition, message)
        case .unavailable(let message): RPCError(.unavailable, message)
        }
    }
}

/// Maps a store failure to a status: a uniqueness conflict is ALREADY_EXISTS naming `what`.
func storeError(_ error: any Error, duplicate what: String) -> any Error {
    if case StoreError.duplicate? = error as? StoreError {
        return RPCError(.alreadyExists, "\(what) already exists")
    }
    return error
}

func require(_ condition: Bool, _ code: StatusCode, _ message: @autoclosure () -> String) throws {
    if !condition { throw RPCError(code, message()) }
}

/// A required text field, trimmed: "FIELD: required" when empty, "FIELD: must not be blank" when
/// only whitespace.
func requireText(_ value: String, field: String, max: Int = 100_000) throws -> String {
    guard !value.isEmpty else { throw RPCError(.invalidArgument, "\(field): required") }
    guard value.utf8.count <= max else { throw RPCError(.invalidArgument, "\(field): longer than \(max) bytes") }
    let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
    guard !trimmed.isEmpty else { throw RPCError(.invalidArgument, "\(field): must not be blank") }
    return trimmed
}

/// An optional reason: nil when not given (empty), trimmed when given, "FIELD: must not be blank"
/// when only whitespace (a blank reason records nothing).
func optionalReason(_ value: String, field: String, max: Int = 10_000) throws -> String? {
    guard !value.isEmpty else { return nil }
    return try requireText(value, field: field, max: max)
}
