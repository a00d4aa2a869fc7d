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
    /// The encoding responses may be compressed with, chosen from `grpc-accept-encoding`
    /// (the request's own encoding when the client accepts it, as gRPC servers answer).
    var responseEncoding: GRPCEncoding?
    var metadata: Metadata

    /// The encoding to compress one response message with, if any.
    func responseEncoding(for compression: ResponseCompression) -> GRPCEncoding? {
        switch compression {
        case .never: nil
        case .whenNegotiated: requestEncoding == nil ? nil : responseEncoding
        case .always: responseEncoding
        }
    }

    /// Why a request is refused before a handler sees it: the HTTP status and the gRPC status
    /// to answer with, as gRPC servers do.
    struct Refusal: Error {
        var httpStatus: Int
        var error: RPCError
    }

    /// Parses and checks the request headers in one pass over them, then refuses in the
    /// order gRPC servers check: method, content-type, te, path, timeout, encoding, metadata.
    static func parse(_ headers: HPACKHeaders) -> Result<GRPCRequestHead, Refusal> {
        var method: String?, path: String?, contentType = "", hasTrailersTE = false
        var timeoutText: String?, encodingName: String?, accepted: [GRPCEncoding] = []
        var metadata = Metadata()
        var metadataProblem: String?
        for (name, value, _) in headers {
            switch name {
            case ":method": method = value
            case ":path": path = value
            case "content-type": contentType = value
            case "te": hasTrailersTE = hasTrailersTE || value.split(separator: ",").contains { $0.trimmingASCIISpaces == "trailers" }
            case "grpc-timeout": timeoutText = value
            case "grpc-encoding": encodingName = value
            case "grpc-accept-encoding":
                accepted += value.split(separator: ",").compactMap { GRPCEncoding(name: String($0)) }
            default:
                guard metadataProblem == nil, !GRPCMetadata.isReserved(name) else { continue }
                switch GRPCMetadata.value(name: name, value) {
                case .success(let entry): metadata.add(name, value: entry)
                case .failure(let problem): metadataProblem = problem.message
                }
            }
        }
        guard method == "POST" else {
            return .failure(Refusal(httpStatus: 405, error: RPCError(.internal,
                "gRPC requests use POST, not \(method ?? "no :method")")))
        }
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
        guard hasTrailersTE else {
            return .failure(Refusal(httpStatus: 400, error: RPCError(.internal,
                "missing 'te: trailers' (required by gRPC over HTTP/2)")))
        }
        guard let path, path.hasPrefix("/") else {
            return .failure(Refusal(httpStatus: 200, error: RPCError(.unimplemented, "missing or malformed :path")))
        }
        var timeout: UInt64 = 0
        if let timeoutText {
            guard let micros = GRPCTimeout.parseMicros(Substring(timeoutText)) else {
                return .failure(Refusal(httpStatus: 200, error: RPCError(.internal,
                    "malformed grpc-timeout '\(timeoutText)' (1 to 8 digits and one of H M S m u n)")))
            }
            timeout = max(micros, 1)
        }
        var requestEncoding: GRPCEncoding?
        if let encodingName, encodingName != "identity" {
            guard let encoding = GRPCEncoding(name: encodingName) else {
                return .failure(Refusal(httpStatus: 200, error: RPCError(.unimplemented,
                    "message encoding '\(encodingName)' is not supported; this server accepts \(GRPCEncoding.acceptHeader)")))
            }
            requestEncoding = encoding
        }
        if let metadataProblem {
            return .failure(Refusal(httpStatus: 200, error: RPCError(.internal, metadataProblem)))
        }
        return .success(GRPCRequestHead(path: path, timeoutMicros: timeout, requestEncoding: requestEncoding,
                                        responseEncoding: GRPCEncoding.preferred(among: accepted, requestEncoding: requestEncoding),
                                        metadata: metadata))
    }
}
