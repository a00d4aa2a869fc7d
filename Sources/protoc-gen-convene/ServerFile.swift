import SwiftProtobufPluginLibrary

/// The server side of a file's services: method descriptors, service protocols, registration.
struct ServerFile {
    let file: FileDescriptor
    let services: [ServiceModel]

    func render() -> String {
        var out = header(file, imports: ["ConveneMessages", "ConveneProtobuf", "ConveneRPC"]
                             + (services.contains { $0.methods.contains { $0.shape == .raw } } ? ["NIOCore"] : []))
        for service in services {
            out += "\n" + descriptors(service) + "\n" + requirements(service) + "\n" + registration(service)
        }
        return out
    }

    func descriptors(_ service: ServiceModel) -> String {
        var out = "/// The methods of \(service.fullName), as the router and the client know them.\n"
        out += "public enum \(service.methodsType) {\n"
        out += "    public static let service = \"\(service.fullName)\"\n"
        for method in service.methods {
            out += method.comments
            out += "    public static let \(method.swiftName) = MethodDescriptor(\n"
            out += "        service: service, method: \"\(method.descriptor.name)\", kind: \(method.kind),\n"
            out += "        inputType: \"\(method.inputTypeName)\", outputType: \"\(method.outputTypeName)\")\n"
        }
        out += "    /// Every method the proto declares, in its order.\n"
        out += "    public static let all: [MethodDescriptor] = [\(service.methods.map(\.swiftName).joined(separator: ", "))]\n"
        out += "}\n"
        return out
    }

    func requirements(_ service: ServiceModel) -> String {
        var out = service.comments
        if !service.comments.isEmpty { out += "///\n" }
        out += "/// One requirement per RPC of \(service.fullName); `register(with:)` serves them all, so a\n"
        out += "/// method the proto declares and the service does not implement is a compile error.\n"
        out += "public protocol \(service.protocolName): Sendable {\n"
        for method in service.methods {
            out += method.comments
            out += "    func \(method.swiftName)(\(parameters(method))) \(effects(method))\n"
        }
        out += "}\n"
        return out
    }

    func parameters(_ method: MethodModel) -> String {
        switch method.shape {
        case .unary: "_ request: \(method.input), context: ServerCallContext"
        case .inline: "_ request: \(method.input), context: inout UnaryContext"
        case .raw: "_ request: ByteBuffer, context: inout UnaryContext"
        case .serverStreaming:
            "_ request: \(method.input), responses: ResponseStreamWriter<\(method.output)>, context: ServerCallContext"
        case .clientStreaming: "_ requests: RequestMessages<\(method.input)>, context: ServerCallContext"
        case .bidirectional:
            "_ requests: RequestMessages<\(method.input)>, responses: ResponseStreamWriter<\(method.output)>, context: ServerCallContext"
        }
    }

    func effects(_ method: MethodModel) -> String {
        switch method.shape {
        case .unary, .clientStreaming: "async throws -> \(method.output)"
        case .inline: "throws -> \(method.output)"
        case .raw: "throws -> ByteBuffer"
        case .serverStreaming, .bidirectional: "async throws"
        }
    }

    func registration(_ service: ServiceModel) -> String {
        var out = "extension \(service.protocolName) {\n"
        out += "    /// Serves every method of \(service.fullName) through `router`, under `owner`.\n"
        out += "    public func register(with router: Router, owner: String = \"builtin\") throws {\n"
        for method in service.methods {
            let descriptor = "\(service.methodsType).\(method.swiftName)"
            let name = method.swiftName
            switch method.shape {
            case .unary:
                out += "        try router.registerAsyncUnary(\(descriptor), owner: owner) {\n"
                out += "            (request: \(method.input), context) -> \(method.output) in\n"
                out += "            try await self.\(name)(request, context: context)\n"
            case .inline:
                out += "        try router.registerUnary(\(descriptor), owner: owner) {\n"
                out += "            (request: \(method.input), context: inout UnaryContext) -> \(method.output) in\n"
                out += "            try self.\(name)(request, context: &context)\n"
            case .raw:
                out += "        try router.register(\(descriptor), owner: owner, .synchronousUnary { request, context in\n"
                out += "            try self.\(name)(request, context: &context)\n"
                out += "        })\n"
                continue
            case .serverStreaming:
                out += "        try router.registerServerStreaming(\(descriptor), owner: owner) {\n"
                out += "            (request: \(method.input), responses: ResponseStreamWriter<\(method.output)>, context) in\n"
                out += "            try await self.\(name)(request, responses: responses, context: context)\n"
            case .clientStreaming:
                out += "        try router.registerClientStreaming(\(descriptor), owner: owner) {\n"
                out += "            (requests: RequestMessages<\(method.input)>, context) -> \(method.output) in\n"
                out += "            try await self.\(name)(requests, context: context)\n"
            case .bidirectional:
                out += "        try router.registerBidirectional(\(descriptor), owner: owner) {\n"
                out += "            (requests: RequestMessages<\(method.input)>, responses: ResponseStreamWriter<\(method.output)>, context) in\n"
                out += "            try await self.\(name)(requests, responses: responses, context: context)\n"
            }
            out += "        }\n"
        }
        out += "    }\n}\n"
        return out
    }
}

/// The opening of a generated file.
func header(_ file: FileDescriptor, imports: [String]) -> String {
    var out = "// DO NOT EDIT. Generated by protoc-gen-convene (`make protos`) from \(file.name).\n"
    out += "// swift-format-ignore-file\n\n"
    for module in imports.sorted() { out += "import \(module)\n" }
    return out
}
