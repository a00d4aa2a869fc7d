import ConveneRPC
import ConveneWire
import NIOHPACK

/// What a request's HEADERS say: the method, its deadline, how its messages are encoded and
/// how the client would like responses encoded, and its custom metadata.
struct GRPCRequestHead {
    var path: String
    var timeoutMicros: UInt64
    /// How compressed request messages are encoded (`grpc-encoding`); nil: none may be compressed.
    var requestEncoding: GRPCEncoding?
    /// The encoding responses are compressed with, chosen from `grpc-accept-encoding`.
    var responseEncoding: GRPCEncoding?
    var metadata: Metadata

    /// Why a request is refused before a handler sees it: the HTTP status and the gRPC status
    /// to answer with, as gRPC servers do.
    struct Refusal: Error {
        var httpStatus: Int
        var error: RPCError
    }

    /// Parses and checks the request headers, in the order gRPC servers check them.
    static func parse(_ headers: HPACKHeaders) -> Result<GRPCRequestHead, Refusal> {
        guard headers.first(name: ":method") == "POST" else {
            return .failure(Refusal(httpStatus: 405, error: RPCError(.internal,
                "gRPC requests use POST, not \(headers.first(name: ":method") ?? "no :method")")))
        }
        let contentType = headers.first(name: "content-type") ?? ""
        guard contentType == "application/grpc" || contentType.hasPrefix("application/grpc+")
                || contentType.hasPrefix("application/grpc;") else {
            return .failure(Refusal(httpStatus: 415, error: RPCError(.internal,
                "content-type '\(contentType)' is not application/grpc")))
        }
        guard contentType == "application/grpc" || contentType.hasPrefix("application/grpc+proto")
                || contentType.hasPrefix("application/grpc;") else {
            return .failure(Refusal(httpStatus: 415, error: RPCError(.internal,
                "content-type '\(contentType)' names a message format other than protobuf")))
        }
        guard headers[canonicalForm: "te"].contains(where: { $0.lowercased() == "trailers" }) else {
            return .failure(Refusal(httpStatus: 400, error: RPCError(.internal,
                "missing 'te: trailers' (required by gRPC over HTTP/2)")))
        }
        guard let path = headers.first(name: ":path"), path.hasPrefix("/") else {
            return .failure(Refusal(httpStatus: 200, error: RPCError(.unimplemented, "missing or malformed :path")))
        }
        var timeout: UInt64 = 0
        if let text = headers.first(name: "grpc-timeout") {
            guard let micros = GRPCTimeout.parseMicros(Substring(text)) else {
                return .failure(Refusal(httpStatus: 200, error: RPCError(.internal,
                    "malformed grpc-timeout '\(text)' (1 to 8 digits and one of H M S m u n)")))
            }
            timeout = max(micros, 1)
        }
        var requestEncoding: GRPCEncoding?
        if let name = headers.first(name: "grpc-encoding"), name != "identity" {
            guard let encoding = GRPCEncoding(name: name) else {
                return .failure(Refusal(httpStatus: 200, error: RPCError(.unimplemented,
                    "message encoding '\(name)' is not supported; this server accepts \(GRPCEncoding.acceptHeader)")))
            }
            requestEncoding = encoding
        }
        let accepted = headers[canonicalForm: "grpc-accept-encoding"].compactMap { GRPCEncoding(name: String($0)) }
        let metadata: Metadata
        switch GRPCMetadata.metadata(from: headers) {
        case .success(let m): metadata = m
        case .failure(let problem):
            return .failure(Refusal(httpStatus: 200, error: RPCError(.internal, problem.message)))
        }
        return .success(GRPCRequestHead(path: path, timeoutMicros: timeout, requestEncoding: requestEncoding,
                                        responseEncoding: GRPCEncoding.preferred(among: accepted), metadata: metadata))
    }
}
