import ConveneRPC
import SwiftProtobuf

extension SwiftProtobuf.Enum where Self: CaseIterable {
    /// Refuses a value the proto does not define (a forged request's, or a newer client's):
    /// INVALID_ARGUMENT naming the field, never stored as it came nor taken for a default.
    /// The zero value (UNSPECIFIED) passes: whether it may be left out is the field's rule.
    func checkKnown(field: String) throws {
        guard Self.allCases.contains(self) else {
            throw RPCError(.invalidArgument, "\(field): unknown value \(rawValue)")
        }
    }
}
