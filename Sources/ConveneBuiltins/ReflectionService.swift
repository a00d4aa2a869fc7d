import ConveneProtobuf
import ConveneProtos
import ConveneRPC
import Foundation
import SwiftProtobuf

/// Lists the services the router serves and hands out their descriptors, so tools can
/// discover and call methods by name.
public struct ReflectionService: ReflectionServiceProtocol {
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

    public func listServices(_ request: Convene_Reflection_V1_ListServicesRequest,
                             context: inout UnaryContext) throws -> Convene_Reflection_V1_ListServicesResponse {
        listServices()
    }

    public func getFileDescriptors(_ request: Convene_Reflection_V1_GetFileDescriptorsRequest,
                                   context: inout UnaryContext) throws -> Convene_Reflection_V1_GetFileDescriptorsResponse {
        let files: [Data]
        switch request.selector {
        case .symbol(let symbol):
            guard let found = descriptors.encodedFiles(containing: symbol) else {
                throw RPCError(.notFound, "unknown symbol '\(symbol)'")
            }
            files = found
        case .filename(let name):
            guard let found = descriptors.encodedFileWithDependencies(name) else {
                throw RPCError(.notFound, "unknown file '\(name)'")
            }
            files = found
        case nil:
            throw RPCError(.invalidArgument, "selector: give a symbol or a filename")
        }
        var response = Convene_Reflection_V1_GetFileDescriptorsResponse()
        response.fileDescriptorProto = files
        return response
    }
}
