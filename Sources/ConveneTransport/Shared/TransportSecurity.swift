import ConveneRPC
import Foundation
import Logging
import NIOCore
import NIOSSL
import NIOTLS

/// TLS for a server: its certificate chain and key, and, for mutual TLS, the CA that client
/// certificates must chain to. PEM files.
public struct ServerTLS: Sendable, Equatable {
    public var certificateChainPath: String
    public var privateKeyPath: String
    /// When set, every client must present a certificate issued by one of these CAs (mTLS).
    public var clientCAPath: String?

    public init(certificateChainPath: String, privateKeyPath: String, clientCAPath: String? = nil) {
        self.certificateChainPath = certificateChainPath
        self.privateKeyPath = privateKeyPath
        self.clientCAPath = clientCAPath
    }

    /// Loads the files; an error names the file and what is wrong with it. The context offers
    /// `applicationProtocols` in ALPN (the native protocol's by default; `["h2"]` for gRPC).
    public func makeContext(applicationProtocols: [String] = [TransportSecurity.alpn]) throws -> NIOSSLContext {
        let chain = try loadCertificates(certificateChainPath, option: "certificate chain")
        let key = try loadPrivateKey(privateKeyPath)
        var tls: TLSConfiguration
        if let clientCAPath {
            let roots = try loadCertificates(clientCAPath, option: "client CA")
            tls = .makeServerConfigurationWithMTLS(certificateChain: chain.map { .certificate($0) },
                                                   privateKey: .privateKey(key), trustRoots: .certificates(roots))
        } else {
            tls = .makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        }
        tls.minimumTLSVersion = .tlsv12
        tls.cipherSuites = TransportSecurity.forwardSecretCipherSuites
        tls.applicationProtocols = applicationProtocols
        do {
            return try NIOSSLContext(configuration: tls)
        } catch {
            throw RPCError(.invalidArgument,
                           "TLS: \(certificateChainPath) and \(privateKeyPath) do not make a usable server identity: \(error)")
        }
    }
}

/// TLS for a client: which CAs to trust (the system's when none is given), and a client
/// certificate for servers that require mutual TLS.
public struct ClientTLS: Sendable, Equatable {
    /// PEM file of the CA certificates that may issue the server's certificate; nil: the system's roots.
    public var trustRootsPath: String?
    /// PEM files of the client's own certificate chain and key, for mTLS.
    public var certificateChainPath: String?
    public var privateKeyPath: String?
    /// Name to send (SNI) and verify the server's certificate against; nil: the host connected to.
    public var serverHostname: String?

    public init(trustRootsPath: String? = nil, certificateChainPath: String? = nil, privateKeyPath: String? = nil,
                serverHostname: String? = nil) {
        self.trustRootsPath = trustRootsPath
        self.certificateChainPath = certificateChainPath
        self.privateKeyPath = privateKeyPath
        self.serverHostname = serverHostname
    }

    public func makeContext() throws -> NIOSSLContext {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        tls.cipherSuites = TransportSecurity.forwardSecretCipherSuites
        tls.applicationProtocols = [TransportSecurity.alpn]
        if let trustRootsPath {
            tls.trustRoots = .certificates(try loadCertificates(trustRootsPath, option: "CA"))
        }
        switch (certificateChainPath, privateKeyPath) {
        case (let chainPath?, let keyPath?):
            tls.certificateChain = try loadCertificates(chainPath, option: "client certificate").map { .certificate($0) }
            tls.privateKey = .privateKey(try loadPrivateKey(keyPath))
        case (nil, nil):
            break
        default:
            throw RPCError(.invalidArgument, "TLS: a client certificate needs both its chain and its private key")
        }
        do {
            return try NIOSSLContext(configuration: tls)
        } catch {
            throw RPCError(.invalidArgument, "TLS: cannot build the client context: \(error)")
        }
    }
}

public enum TransportSecurity {
    /// The ALPN protocol id both sides offer.
    public static let alpn = "convene/1"

    /// TLS 1.2 suites with forward secrecy only (ECDHE key exchange, AEAD ciphers); every
    /// TLS 1.3 suite is forward-secret. `AES128-SHA` and the other RSA key-exchange suites
    /// are refused.
    public static let forwardSecretCipherSuites = [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    ].joined(separator: ":")

    /// The client-side TLS handler for a connection to `host`. SNI is sent for names only; an IP
    /// address is verified against the certificate's IP subject alternative names.
    static func clientHandler(context: NIOSSLContext, host: String, serverHostname: String?) throws -> NIOSSLClientHandler {
        let name = serverHostname ?? (isIPAddress(host) ? nil : host)
        return try NIOSSLClientHandler(context: context, serverHostname: name)
    }

    static func isIPAddress(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }
}

private func loadCertificates(_ path: String, option: String) throws -> [NIOSSLCertificate] {
    guard FileManager.default.isReadableFile(atPath: path) else {
        throw RPCError(.invalidArgument, "TLS \(option): cannot read \(path)")
    }
    let certificates: [NIOSSLCertificate]
    do {
        certificates = try NIOSSLCertificate.fromPEMFile(path)
    } catch {
        throw RPCError(.invalidArgument, "TLS \(option): \(path) is not a PEM certificate file: \(error)")
    }
    guard !certificates.isEmpty else {
        throw RPCError(.invalidArgument, "TLS \(option): \(path) holds no certificate")
    }
    return certificates
}

private func loadPrivateKey(_ path: String) throws -> NIOSSLPrivateKey {
    guard FileManager.default.isReadableFile(atPath: path) else {
        throw RPCError(.invalidArgument, "TLS private key: cannot read \(path)")
    }
    do {
        return try NIOSSLPrivateKey(file: path, format: .pem)
    } catch {
        throw RPCError(.invalidArgument, "TLS private key: \(path) is not a PEM private key: \(error)")
    }
}

/// Refuses a TLS connection whose client did not agree on `expected` in ALPN (it offered no
/// protocol, or none the server speaks): closed right after the handshake, before any byte
/// of the protocol is read. Leaves the pipeline once the protocol is agreed.
public final class ALPNGuard: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer

    let expected: String
    let logger: Logger

    public init(expected: String, logger: Logger) {
        self.expected = expected
        self.logger = logger
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted(let negotiated) = event {
            guard negotiated == expected else {
                logger.debug("TLS client refused: no ALPN agreement", metadata: [
                    "offered": "\(negotiated ?? "none")", "expected": "\(expected)",
                    "peer": "\(context.channel.remoteAddress?.description ?? "?")",
                ])
                context.close(promise: nil)
                return
            }
            context.fireUserInboundEventTriggered(event)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}
