import ConveneDomain
import ConveneProtobuf
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
    if let control = RequestText.forbiddenScalar(in: value) { throw RequestText.refusal(field: field, control) }
    guard !value.isBlank else { throw RPCError(.invalidArgument, "\(field): must not be blank") }
    return value.trimmingCharacters(in: .whitespacesAndNewlines)
}

/// A repeated text field: at most `maxCount` entries of at most `maxEach` bytes each
/// (INVALID_ARGUMENT naming the field): every list a party sends is kept, and read back by others.
func checkList(_ values: [String], field: String, maxCount: Int, maxEach: Int) throws {
    guard values.count <= maxCount else { throw RPCError(.invalidArgument, "\(field): at most \(maxCount) entries, not \(values.count)") }
    if let long = values.firstIndex(where: { $0.utf8.count > maxEach }) {
        throw RPCError(.invalidArgument, "\(maxCount == 1 ? field : "\(field)[\(long)]"): longer than \(maxEach) bytes")
    }
}

/// An optional reason: nil when not given (empty), trimmed when given, "FIELD: must not be blank"
/// when only whitespace (a blank reason records nothing).
func optionalReason(_ value: String, field: String, max: Int = 10_000) throws -> String? {
    guard !value.isEmpty else { return nil }
    return try requireText(value, field: field, max: max)
}
