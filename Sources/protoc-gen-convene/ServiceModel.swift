import SwiftProtobufPluginLibrary

/// A service as the generated Swift code names it.
struct ServiceModel {
    let descriptor: ServiceDescriptor
    let methods: [MethodModel]
    /// The base of every generated name: the service's own name, or the one a `Name=` option
    /// gives it (two services of different packages may share a name, e.g. grpc.health.v1.Health
    /// and convene.health.v1.Health).
    let name: String

    init(_ descriptor: ServiceDescriptor, options: GeneratorOptions) {
        self.descriptor = descriptor
        self.name = options.names[descriptor.fullName] ?? descriptor.name
        let namer = SwiftProtobufNamer(currentFile: descriptor.file, protoFileToModuleMappings: ProtoFileToModuleMappings())
        methods = descriptor.methods.map { MethodModel($0, namer: namer, options: options) }
    }

    var fullName: String { descriptor.fullName }
    /// `HealthMethods`: the typed method descriptors.
    var methodsType: String { name + "Methods" }
    /// `HealthServiceProtocol` (`TestServiceProtocol` for a service already named ...Service).
    var protocolName: String { name + (name.hasSuffix("Service") ? "Protocol" : "ServiceProtocol") }
    var clientType: String { name + "Client" }
    /// `health`: the client stub's accessor on a call channel.
    var accessor: String { escaped(lowerInitialWord(name)) }
    var comments: String { descriptor.protoSourceComments() }
}

/// How a method is served: the shape of its requirement.
enum MethodShape {
    /// Unary, run as a task.
    case unary
    /// Unary, answered on the event loop without suspending.
    case inline
    /// Inline, on the serialized messages.
    case raw
    case serverStreaming
    case clientStreaming
    case bidirectional
}

struct MethodModel {
    let descriptor: MethodDescriptor
    let shape: MethodShape
    let input: String
    let output: String

    init(_ descriptor: MethodDescriptor, namer: SwiftProtobufNamer, options: GeneratorOptions) {
        self.descriptor = descriptor
        input = namer.fullName(message: descriptor.inputType)
        output = namer.fullName(message: descriptor.outputType)
        let path = "\(descriptor.service.fullName)/\(descriptor.name)"
        switch (descriptor.clientStreaming, descriptor.serverStreaming) {
        case (false, false):
            shape = options.raw.contains(path) ? .raw : options.inline.contains(path) ? .inline : .unary
        case (false, true): shape = .serverStreaming
        case (true, false): shape = .clientStreaming
        case (true, true): shape = .bidirectional
        }
    }

    /// `convene.health.v1.Health/Check`, as the Inline and Raw options name it.
    var path: String { "\(descriptor.service.fullName)/\(descriptor.name)" }
    /// `check`: the descriptor's property, the requirement and the stub's method.
    var swiftName: String { escaped(NamingUtils.toLowerCamelCase(descriptor.name)) }
    var inputTypeName: String { descriptor.inputType.fullName }
    var outputTypeName: String { descriptor.outputType.fullName }
    var comments: String { descriptor.protoSourceComments(commentPrefix: "    ///") }

    /// The MethodKind case of ConveneRPC.
    var kind: String {
        switch shape {
        case .unary, .inline, .raw: ".unary"
        case .serverStreaming: ".serverStreaming"
        case .clientStreaming: ".clientStreaming"
        case .bidirectional: ".bidirectional"
        }
    }
}

/// A name usable as a Swift identifier (keywords in backquotes).
func escaped(_ name: String) -> String {
    let reserved = swiftKeywordsUsedInDeclarations.union(swiftKeywordsUsedInStatements)
        .union(swiftKeywordsUsedInExpressionsAndTypes)
    return reserved.contains(name) ? "`\(name)`" : name
}

/// A type name as a property: its first word lowercased, a leading acronym included
/// ("GRPCHealth" is "grpcHealth", "ServerReflection" is "serverReflection").
func lowerInitialWord(_ name: String) -> String {
    let characters = Array(name)
    var end = 0
    while end < characters.count, characters[end].isUppercase { end += 1 }
    // An acronym before a capitalized word keeps that word's capital: GRPC|Health.
    if end > 1, end < characters.count { end -= 1 }
    return String(characters[..<max(end, 1)]).lowercased() + String(characters[max(end, 1)...])
}
