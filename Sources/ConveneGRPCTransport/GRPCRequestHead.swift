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
    /// The request body's length in bytes, when the client declared one (`content-length`):
    /// DATA that adds up to any other length makes the request malformed (RFC 9113 §8.1.1).
    var contentLength: Int? = nil

    /// The encoding to compress one response message with, if any.
    func responseEncoding(for compression: ResponseCompression) -> GRPCEncoding? {
        switch compression {
        case .never: nil
        case .whenNegotiated: requestEncoding == nil ? nil : responseEncoding
        case .always: responseEncoding
        }
    }

    /// Why a request is refused before a handler sees it: a header block HTTP/2 itself calls
    /// malformed (a stream error, RST_STREAM PROTOCOL_ERROR), or the HTTP status and the gRPC
    /// status to answer with, as gRPC servers do.
    enum Refusal: Error {
        case malformed(String)
        case answer(httpStatus: Int, RPCError)
    }

    /// Parses and checks the request headers in one pass, then refuses in the order gRPC
    /// servers check: a malformed block (RFC 9113 §8.2 and §8.3: lowercase names, pseudo-headers
    /// first, once each and only the request ones, no connection-specific fields), then method,
    /// content-type, te, path, timeout, encoding, metadata. (swift-nio-http2's own header
    /// validation is off: this pass does it, and ours are the only headers sent.)
    static func parse(_ headers: HPACKHeaders) -> Result<GRPCRequestHead, Refusal> {
        var method: String?, scheme: String?, path: String?, authority: String?
        _ = authority  // checked for duplicates only; the server has one authority
        var contentType = "", hasTrailersTE = false, sawRegular = false, pseudoSeen: UInt8 = 0
        var timeoutText: String?, encodingName: String?, accepted = GRPCEncodingSet()
        var metadata = Metadata()
        var metadataProblem: String?
        var contentLength: Int?
        for (name, value, _) in headers {
            if name.utf8.first == UInt8(ascii: ":") {
                guard !sawRegular else { return .failure(.malformed("pseudo-header \(name) after a regular header")) }
                let bit: UInt8
                switch name {
                case ":method": (bit, method) = (1, value)
                case ":scheme": (bit, scheme) = (2, value)
                case ":path": (bit, path) = (4, value)
                case ":authority": (bit, authority) = (8, value)
                default: return .failure(.malformed("pseudo-header \(name) is not one a request may carry"))
                }
                guard pseudoSeen & bit == 0 else { return .failure(.malformed("pseudo-header \(name) appears twice")) }
                pseudoSeen |= bit
                continue
            }
            sawRegular = true
            guard name.utf8.allSatisfy({ $0 < UInt8(ascii: "A") || $0 > UInt8(ascii: "Z") }) else {
                return .failure(.malformed("header name '\(name)' is not lowercase"))
            }
            switch name {
            case "content-type": contentType = value
            case "te":
                guard value == "trailers" || value.split(separator: ",").allSatisfy({ $0.trimmingASCIISpaces == "trailers" }) else {
                    return .failure(.malformed("te may only be 'trailers'"))
                }
                hasTrailersTE = true
            case "grpc-timeout": timeoutText = value
            case "grpc-encoding": encodingName = value
            case "grpc-accept-encoding": accepted.formUnion(GRPCEncodingSet(parsing: value))
            case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade":
                return .failure(.malformed("connection-specific header '\(name)'"))
            case "content-length":
                // gRPC clients send none; one that is sent must be a length, the same each time.
                guard let length = Self.contentLength(value), contentLength == nil || contentLength == length else {
                    return .failure(.malformed("content-length '\(value)' is not one length in bytes"))
                }
                contentLength = length
            default:
                guard metadataProblem == nil, !GRPCMetadata.isReserved(name) else { continue }
                switch GRPCMetadata.value(name: name, value) {
                case .success(let entry): metadata.add(name, value: entry)
                case .failure(let problem): metadataProblem = problem.message
                }
            }
        }
        guard scheme != nil, path != nil, method != nil else {
            return .failure(.malformed("a request needs :method, :scheme and :path"))
        }
        guard method == "POST" else {
            return .failure(.answer(httpStatus: 405, RPCError(.internal, "gRPC requests use POST, not \(method ?? "")")))
        }
        guard contentType == "application/grpc" || contentType.hasPrefix("application/grpc+")
                || contentType.hasPrefix("application/grpc;") else {
            return .failure(.answer(httpStatus: 415, RPCError(.internal, "content-type '\(contentType)' is not application/grpc")))
        }
        guard contentType == "application/grpc" || contentType.hasPrefix("application/grpc+proto")
                || contentType.hasPrefix("application/grpc;") else {
            return .failure(.answer(httpStatus: 415, RPCError(.internal,
                "content-type '\(contentType)' names a message format other than protobuf")))
        }
        guard hasTrailersTE else {
            return .failure(.answer(httpStatus: 400, RPCError(.internal, "missing 'te: trailers' (required by gRPC over HTTP/2)")))
        }
        guard let path, path.hasPrefix("/") else {
            return .failure(.answer(httpStatus: 200, RPCError(.unimplemented, "malformed :path '\(path ?? "")'")))
        }
        var timeout: UInt64 = 0
        if let timeoutText {
            guard let micros = GRPCTimeout.parseMicros(Substring(timeoutText)) else {
                return .failure(.answer(httpStatus: 200, RPCError(.internal,
                    "malformed grpc-timeout '\(timeoutText)' (1 to 8 digits and one of H M S m u n)")))
            }
            // gRPC's timeout is positive; a zero one is a deadline already past (as grpc-core
            // takes it): the call is not run.
            guard micros > 0 else {
                return .failure(.answer(httpStatus: 200, RPCError(.deadlineExceeded,
                    "deadline exceeded (grpc-timeout '\(timeoutText)': the call's deadline had passed when it arrived)")))
            }
            timeout = micros
        }
        var requestEncoding: GRPCEncoding?
        if let encodingName, encodingName != "identity" {
            guard let encoding = GRPCEncoding(name: encodingName) else {
                return .failure(.answer(httpStatus: 200, RPCError(.unimplemented,
                    "message encoding '\(encodingName)' is not supported; this server accepts \(GRPCEncoding.acceptHeader)")))
            }
            requestEncoding = encoding
        }
        if let metadataProblem {
            return .failure(.answer(httpStatus: 200, RPCError(.internal, metadataProblem)))
        }
        return .success(GRPCRequestHead(path: path, timeoutMicros: timeout, requestEncoding: requestEncoding,
                                        responseEncoding: accepted.preferred(requestEncoding: requestEncoding),
                                        metadata: metadata, contentLength: contentLength))
    }

    /// A `content-length` value: 1 to 18 ASCII digits (larger than any body a server takes).
    private static func contentLength(_ value: String) -> Int? {
        let digits = value.utf8
        guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            return nil
        }
        return Int(value)
    }
}
