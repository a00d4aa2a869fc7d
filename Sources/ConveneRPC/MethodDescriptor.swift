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
public struct MethodDescriptor: Hashable, Sendable, CustomStringConvertible {
    /// Fully qualified, e.g. `convene.health.v1.Health`.
    public var service: String
    public var method: String
    public var kind: MethodKind
    /// Fully qualified message type names, when known (for reflection).
    public var inputType: String
    public var outputType: String

    public init(service: String, method: String, kind: MethodKind, inputType: String = "", outputType: String = "") {
        self.service = service
        self.method = method
        self.kind = kind
        self.inputType = inputType
        self.outputType = outputType
    }

    /// `/package.Service/Method`, as sent in CALL.
    public var path: String { "/\(service)/\(method)" }
    /// `package.Service/Method`, as the CLI prints it.
    public var description: String { "\(service)/\(method)" }

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
