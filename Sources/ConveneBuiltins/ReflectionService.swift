import ConveneProtobuf
import ConveneProtos
import ConveneRPC
import Foundation
import SwiftProtobuf

/// Lists the services the router serves and hands out their descriptors, so tools can
/// discover and call methods by name.
public struct ReflectionService: Sendable {
    public let router: Router
    public let descriptors: DescriptorRegistry

    public init(router: Router, descriptors: DescriptorRegistry) {
        self.router = router
        self.descriptors = descriptors
    }

    public func listServices() -> Convene_Reflection_V1_ListServicesResponse {
        var byService: [String: [MethodDescriptor]] = [:]
        for method in router.methods { byService[method.descriptor.service, default: []].append(method.descriptor) }
        return .with { response in
            response.services = byService.keys.sorted().map { name in
                .with { info in
                    info.name = name
                    info.file = descriptors.fileName(containing: name) ?? ""
                    let known = descriptors.service(named: name)
                    info.methods = byService[name]!.sorted { $0.method < $1.method }.map { method in
                        .with { m in
                            m.name = method.method
                            let proto = known?.method.first { $0.name == method.method }
                            // Types from the descriptor when present (plugins register theirs), else from the router.
                            m.inputType = proto.map { String($0.inputType.drop { $0 == "." }) } ?? method.inputType
                            m.outputType = proto.map { String($0.outputType.drop { $0 == "." }) } ?? method.outputType
                            m.clientStreaming = method.kind.clientStreams
                            m.serverStreaming = method.kind.serverStreams
                        }
                    }
                }
            }
        }
    }

    public func register(with router: Router) throws {
        try router.registerUnary(ReflectionMethods.listServices) { [self] (_: Convene_Reflection_V1_ListServicesRequest, _) in
            listServices()
        }
        try router.registerUnary(ReflectionMethods.getFileDescriptors) {
            [descriptors] (request: Convene_Reflection_V1_GetFileDescriptorsRequest, _) -> Convene_Reflection_V1_GetFileDescriptorsResponse in
            let fileName: String
            switch request.selector {
            case .symbol(let symbol):
                guard let found = descriptors.fileName(containing: symbol) else {
                    throw RPCError(.notFound, "unknown symbol '\(symbol)'")
                }
                fileName = found
            case .filename(let name):
                fileName = name
            case nil:
                throw RPCError(.invalidArgument, "selector: give a symbol or a filename")
            }
            guard let files = descriptors.fileWithDependencies(fileName) else {
                throw RPCError(.notFound, "unknown file '\(fileName)'")
            }
            var response = Convene_Reflection_V1_GetFileDescriptorsResponse()
            response.fileDescriptorProto = try files.map { try $0.serializedBytes() as Data }
            return response
        }
    }
}
