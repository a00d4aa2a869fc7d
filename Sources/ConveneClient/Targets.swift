import ConveneRPC
import Foundation
import NIOPosix

/// A server to reach, as given: `HOST:PORT` or `[IPv6]:PORT`. A host name may stand for several
/// servers (several addresses in DNS): each address is an endpoint of its own.
public struct Target: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `HOST:PORT` or `[IPv6]:PORT`.
    public init(parsing text: String) throws {
        let text = text.trimmingCharacters(in: .whitespaces)
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (1...65535).contains(port) else {
            throw RPCError(.invalidArgument, "target '\(text)' is not HOST:PORT")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw RPCError(.invalidArgument, "target '\(text)' names no host") }
        self.init(host: host, port: port)
    }

    /// A comma-separated list: `A:7353,B:7353,C:7353`.
    public static func list(_ text: String) throws -> [Target] {
        let targets = try text.split(separator: ",", omittingEmptySubsequences: false).map { try Target(parsing: String($0)) }
        guard !targets.isEmpty else { throw RPCError(.invalidArgument, "no target given") }
        return targets
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Whether the host is an address already (no name to look up).
    var isAddress: Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    /// The addresses the host stands for (itself when it is one), in the resolver's order, each once.
    /// A name that does not resolve stays as it is, so that connecting says why.
    func resolve() async -> [String] {
        if isAddress { return [host] }
        let host = self.host, port = self.port
        let addresses = (try? await NIOThreadPool.singleton.runIfActive { Self.lookUp(host, port: port) }) ?? []
        return addresses.isEmpty ? [host] : addresses
    }

    /// getaddrinfo, blocking (run on a thread pool).
    static func lookUp(_ host: String, port: Int) -> [String] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else { return [] }
        defer { freeaddrinfo(first) }
        var addresses: [String] = []
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if let address = current.pointee.ai_addr,
               getnameinfo(address, current.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 {
                let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if !addresses.contains(text) { addresses.append(text) }
            }
            entry = current.pointee.ai_next
        }
        return addresses
    }
}
