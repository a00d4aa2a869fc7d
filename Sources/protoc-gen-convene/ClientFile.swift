import SwiftProtobufPluginLibrary

/// The client side of a file's services: one stub per service, reached from any call channel.
struct ClientFile {
    let file: FileDescriptor
    let services: [ServiceModel]

    func render() -> String {
        var out = header(file, imports: ["ConveneMessages", "ConveneProtos", "ConveneTransport"])
        for service in services { out += "\n" + stub(service) + "\n" + accessor(service) }
        return out
    }

    func stub(_ service: ServiceModel) -> String {
        var out = "/// Calls \(service.fullName): one method per RPC.\n"
        out += "public struct \(service.clientType): Sendable {\n"
        out += "    public let channel: any CallChannel\n\n"
        out += "    public init(channel: any CallChannel) { self.channel = channel }\n"
        for method in service.methods {
            let descriptor = "\(service.methodsType).\(method.swiftName)"
            let call = "TypedCall<\(method.input), \(method.output)>"
            out += "\n" + method.comments
            switch method.shape {
            case .unary, .inline, .raw:
                out += "    public func \(method.swiftName)(_ request: \(method.input), options: CallOptions? = nil) async throws -> \(method.output) {\n"
                out += "        try await channel.unary(\(descriptor), request, as: \(method.output).self, options: options)\n"
            case .serverStreaming:
                out += "    public func \(method.swiftName)(_ request: \(method.input), options: CallOptions? = nil) async throws -> \(call) {\n"
                out += "        try await channel.serverStreaming(\(descriptor), request, as: \(method.output).self, options: options)\n"
            case .clientStreaming, .bidirectional:
                out += "    /// Send the requests through the returned call, then `finish()`.\n"
                out += "    public func \(method.swiftName)(options: CallOptions? = nil) async throws -> \(call) {\n"
                out += "        try await channel.streaming(\(descriptor), requestType: \(method.input).self,\n"
                out += "                                    as: \(method.output).self, options: options)\n"
            }
            out += "    }\n"
        }
        out += "}\n"
        return out
    }

    func accessor(_ service: ServiceModel) -> String {
        "extension CallChannel {\n"
            + "    /// The stub of \(service.fullName).\n"
            + "    public var \(service.accessor): \(service.clientType) { \(service.clientType)(channel: self) }\n"
            + "}\n"
    }
}
