/// How many messages each side of a call sends.
public enum MethodKind: String, Hashable, Sendable {
    case unary
    case serverStreaming
    case clientStreaming
    case bidirectional

    public var clientStreams: Bool { self == .clientStreaming || self == .bidirectional }
    public var serverStreams: Bool { self == .serverStreaming || self == .bidirectional }
}

/// A method: fully qualified service name, method name and kind; its path is `/service/method`.
///
/// Its fields live in one immutable object: a descriptor travels with every call (its
/// context, its actions, its metrics), and a copy costs one reference rather than one per
/// string; the path is made once, not at each use.
public struct MethodDescriptor: Hashable, Sendable, CustomStringConvertible {
    private final class Fields: Sendable {
        let service: String
        let method: String
        let kind: MethodKind
        let inputType: String
        let outputType: String
        let path: String

        init(service: String, method: String, kind: MethodKind, inputType: String, outputType: String) {
            self.service = service
            self.method = method
            self.kind = kind
            self.inputType = inputType
            self.outputType = outputType
            self.path = "/\(service)/\(method)"
        }
    }

    private let fields: Fields

    public init(service: String, method: String, kind: MethodKind, inputType: String = "", outputType: String = "") {
        fields = Fields(service: service, method: method, kind: kind, inputType: inputType, outputType: outputType)
    }

    /// Fully qualified, e.g. `convene.health.v1.Health`.
    public var service: String { fields.service }
    public var method: String { fields.method }
    public var kind: MethodKind { fields.kind }
    /// Fully qualified message type names, when known (for reflection).
    public var inputType: String { fields.inputType }
    public var outputType: String { fields.outputType }

    /// `/package.Service/Method`, as sent in CALL.
    public var path: String { fields.path }
    /// `package.Service/Method`, as the CLI prints it.
    public var description: String { "\(service)/\(method)" }

    public static func == (lhs: MethodDescriptor, rhs: MethodDescriptor) -> Bool {
        lhs.fields === rhs.fields
            || (lhs.service == rhs.service && lhs.method == rhs.method && lhs.kind == rhs.kind && lhs.inputType == rhs.inputType && lhs.outputType == rhs.outputType)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(path)
        hasher.combine(kind)
    }

    /// Splits a path into service and method; nil for a malformed path.
    public static func split(path: String) -> (service: Substring, method: Substring)? {
        guard path.first == "/" else { return nil }
        let rest = path.dropFirst()
        guard let slash = rest.lastIndex(of: "/") else { return nil }
        let service = rest[..<slash], method = rest[rest.index(after: slash)...]
        guard !service.isEmpty, !method.isEmpty else { return nil }
        return (service, method)
    }
}
