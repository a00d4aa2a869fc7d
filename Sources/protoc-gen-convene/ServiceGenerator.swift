import SwiftProtobufPluginLibrary

/// A protoc plugin that writes, for every service of the files it is given:
///
/// - into `ConveneProtos`: its typed method descriptors (`<Service>Methods`), a protocol with one
///   requirement per RPC (`<Service>ServiceProtocol`, shaped by the RPC's streaming kind) and
///   `register(with:)`, which serves every requirement through the router;
/// - into `ConveneClient`: its client stub (`<Service>Client`), one method per RPC.
///
/// Options (`--convene_opt=KEY=VALUE`, repeatable):
/// - `Inline=package.Service/Method`: a unary method answered on the connection's event loop,
///   without suspending (its requirement is synchronous and takes `inout UnaryContext`);
/// - `Raw=package.Service/Method`: an inline method served on the serialized messages as they
///   came (its requirement takes and returns `ByteBuffer`);
/// - `Name=package.Service=SwiftName`: the base of the service's generated names, for services
///   of different packages that share a name (two services generating one name is an error).
struct ServiceGenerator: CodeGenerator {
    var version: String? { "1.0" }
    var supportedFeatures: [Google_Protobuf_Compiler_CodeGeneratorResponse.Feature] { [.proto3Optional] }

    func generate(files: [FileDescriptor], parameter: any CodeGeneratorParameter,
                  protoCompilerContext: any ProtoCompilerContext, generatorOutputs: any GeneratorOutputs) throws {
        let options = try GeneratorOptions(parameter.parsedPairs)
        var found: Set<String> = []
        var names: [String: String] = [:]  // generated name -> service
        for file in files where !file.services.isEmpty {
            let services = file.services.map { ServiceModel($0, options: options) }
            for service in services {
                found.formUnion(service.methods.map(\.path))
                if let other = names[service.name] {
                    throw GeneratorError("\(other) and \(service.fullName) would both generate \(service.name)...; "
                                         + "give one a Name=\(service.fullName)=SwiftName option")
                }
                names[service.name] = service.fullName
            }
            let base = file.name.replacingOccurrences(of: ".proto", with: "").replacingOccurrences(of: "/", with: "_")
            try generatorOutputs.add(fileName: "\(options.serverDirectory)/\(base).services.swift",
                                     contents: ServerFile(file: file, services: services).render())
            try generatorOutputs.add(fileName: "\(options.clientDirectory)/\(base).client.swift",
                                     contents: ClientFile(file: file, services: services).render())
        }
        try generatorOutputs.add(fileName: "\(options.serverDirectory)/MessageTypes.swift",
                                 contents: MessageRegistryFile(files: files).render())
        // A stale option would silently turn an inline method into an asynchronous one.
        let unknown = options.inline.union(options.raw).subtracting(found)
            .union(Set(options.names.keys).subtracting(names.values).map { "\($0) (Name)" })
        guard unknown.isEmpty else {
            throw GeneratorError("no such method in the given files: \(unknown.sorted().joined(separator: ", "))")
        }
    }
}

struct GeneratorError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

struct GeneratorOptions {
    var inline: Set<String> = []
    var raw: Set<String> = []
    var names: [String: String] = [:]
    var serverDirectory = "ConveneProtos/Generated"
    var clientDirectory = "ConveneClient/Generated"

    init(_ pairs: [(key: String, value: String)]) throws {
        for (key, value) in pairs {
            switch key {
            case "Inline": inline.insert(value)
            case "Raw": raw.insert(value)
            case "Name":
                guard let equals = value.lastIndex(of: "=") else { throw GeneratorError("Name=package.Service=SwiftName, not '\(value)'") }
                names[String(value[..<equals])] = String(value[value.index(after: equals)...])
            case "ServerDirectory": serverDirectory = value
            case "ClientDirectory": clientDirectory = value
            default: throw GeneratorError("unknown option '\(key)' (Inline, Raw, Name, ServerDirectory, ClientDirectory)")
            }
        }
    }
}
