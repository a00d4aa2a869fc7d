import ConveneProtobuf
import ConveneProtos
import ConveneRPC
import Foundation
import SwiftProtobuf

/// The standard gRPC server reflection service (grpc.reflection.v1, and v1alpha, which
/// older tools still use; both have the same messages on the wire), answered from the same
/// descriptor registry as convene.reflection.v1, plugin services included.
public struct ServerReflectionService: ServerReflectionServiceProtocol {
    public let router: Router
    public let descriptors: DescriptorRegistry

    public init(router: Router, descriptors: DescriptorRegistry) {
        self.router = router
        self.descriptors = descriptors
    }

    public typealias Request = Grpc_Reflection_V1_ServerReflectionRequest
    public typealias Response = Grpc_Reflection_V1_ServerReflectionResponse

    public func serverReflectionInfo(_ requests: RequestMessages<Request>, responses: ResponseStreamWriter<Response>,
                                     context: ServerCallContext) async throws {
        for try await request in requests { try await responses.send(answer(request)) }
    }

    /// Serves v1, and v1alpha beside it.
    public func registerBoth(with router: Router) throws {
        try register(with: router)
        try ServerReflectionV1Alpha(current: self).register(with: router)
    }

    /// One response per request; a question that cannot be answered gets an error response
    /// on the stream, which stays open.
    func answer(_ request: Request) -> Response {
        var response = Response()
        response.validHost = request.host
        response.originalRequest = request
        switch request.messageRequest {
        case .listServices:
            let names = Set(router.methods.map(\.descriptor.service)).sorted()
            response.listServicesResponse = .with { $0.service = names.map { name in .with { $0.name = name } } }
        case .fileContainingSymbol(let symbol):
            if let files = descriptors.encodedFiles(containing: symbol) {
                response.messageResponse = Self.response(files)
            } else {
                response.errorResponse = error(.notFound, "unknown symbol '\(symbol)'")
            }
        case .fileByFilename(let name):
            response.messageResponse = descriptors.encodedFileWithDependencies(name).map(Self.response)
                ?? .errorResponse(error(.notFound, "unknown file '\(name)'"))
        case .fileContainingExtension(let request):
            response.errorResponse = error(.notFound,
                "no extension \(request.extensionNumber) of '\(request.containingType)': Convene's messages define none")
        case .allExtensionNumbersOfType(let type):
            if descriptors.fileName(containing: type) != nil {
                response.allExtensionNumbersResponse = .with { $0.baseTypeName = type }
            } else {
                response.errorResponse = error(.notFound, "unknown type '\(type)'")
            }
        case nil:
            response.errorResponse = error(.invalidArgument, "message_request: none was set")
        }
        return response
    }

    private static func response(_ files: [Data]) -> Response.OneOf_MessageResponse {
        .fileDescriptorResponse(.with { $0.fileDescriptorProto = files })
    }

    private func error(_ code: StatusCode, _ message: String) -> Grpc_Reflection_V1_ErrorResponse {
        .with {
            $0.errorCode = Int32(code.rawValue)
            $0.errorMessage = message
        }
    }
}

/// grpc.reflection.v1alpha, which older tools (and grpcio-reflection's descriptor database)
/// still use: the same messages as v1 on the wire, answered by the v1 service.
struct ServerReflectionV1Alpha: ServerReflectionV1AlphaServiceProtocol {
    let current: ServerReflectionService

    func serverReflectionInfo(_ requests: RequestMessages<Grpc_Reflection_V1alpha_ServerReflectionRequest>,
                              responses: ResponseStreamWriter<Grpc_Reflection_V1alpha_ServerReflectionResponse>,
                              context: ServerCallContext) async throws {
        for try await request in requests {
            let answer = current.answer(try ServerReflectionService.Request(serializedBytes: request.serializedBytes() as [UInt8]))
            try await responses.send(.init(serializedBytes: answer.serializedBytes() as [UInt8]))
        }
    }
}
