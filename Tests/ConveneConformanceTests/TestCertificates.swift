import Crypto
import Foundation
import SwiftASN1
import X509

/// A throwaway PKI written as PEM files for one test: a CA, a server certificate for
/// localhost, 127.0.0.1 and ::1, a client certificate from the same CA, and a second,
/// unrelated CA with its own client certificate (which the server must refuse).
struct TestCertificates {
    let directory: URL
    var caPath: String { path("ca.pem") }
    var serverCertificatePath: String { path("server.pem") }
    var serverKeyPath: String { path("server-key.pem") }
    /// A server certificate naming only convene.example (no IP address).
    var namedCertificatePath: String { path("named.pem") }
    var namedKeyPath: String { path("named-key.pem") }
    var clientCertificatePath: String { path("client.pem") }
    var clientKeyPath: String { path("client-key.pem") }
    var otherCAPath: String { path("other-ca.pem") }
    var strangerCertificatePath: String { path("stranger.pem") }
    var strangerKeyPath: String { path("stranger-key.pem") }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    static func make() throws -> TestCertificates {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("convene-pki-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let pki = TestCertificates(directory: directory)

        let ca = try Authority(name: "Convene Test CA")
        try pki.write(ca.certificate, to: "ca.pem")
        let server = try ca.issue(commonName: "localhost", names: [
            .dnsName("localhost"),
            .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])),
            .ipAddress(ASN1OctetString(contentBytes: ArraySlice([UInt8](repeating: 0, count: 15) + [1]))),
        ], usage: .serverAuth)
        try pki.write(server.certificate, to: "server.pem")
        try pki.write(server.key, to: "server-key.pem")
        let named = try ca.issue(commonName: "convene.example", names: [.dnsName("convene.example")], usage: .serverAuth)
        try pki.write(named.certificate, to: "named.pem")
        try pki.write(named.key, to: "named-key.pem")
        let client = try ca.issue(commonName: "Aurelia liaison", names: [], usage: .clientAuth)
        try pki.write(client.certificate, to: "client.pem")
        try pki.write(client.key, to: "client-key.pem")

        let other = try Authority(name: "Some Other CA")
        try pki.write(other.certificate, to: "other-ca.pem")
        let stranger = try other.issue(commonName: "stranger", names: [], usage: .clientAuth)
        try pki.write(stranger.certificate, to: "stranger.pem")
        try pki.write(stranger.key, to: "stranger-key.pem")
        return pki
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }

    private func write(_ certificate: Certificate, to name: String) throws {
        try certificate.serializeAsPEM().pemString.write(toFile: path(name), atomically: true, encoding: .utf8)
    }

    private func write(_ key: P256.Signing.PrivateKey, to name: String) throws {
        try key.pemRepresentation.write(toFile: path(name), atomically: true, encoding: .utf8)
    }

    /// A self-signed CA that issues leaf certificates valid for the next day.
    struct Authority {
        let key = P256.Signing.PrivateKey()
        let name: DistinguishedName
        let certificate: Certificate

        init(name commonName: String) throws {
            let name = try DistinguishedName { CommonName(commonName) }
            self.name = name
            let now = Date()
            certificate = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
                notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(86_400),
                issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                    Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                },
                issuerPrivateKey: .init(key))
        }

        enum Usage { case serverAuth, clientAuth }

        func issue(commonName: String, names: [GeneralName], usage: Usage) throws
            -> (certificate: Certificate, key: P256.Signing.PrivateKey) {
            let leafKey = P256.Signing.PrivateKey()
            let now = Date()
            let certificate = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(leafKey.publicKey),
                notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(86_400),
                issuer: name, subject: try DistinguishedName { CommonName(commonName) },
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    Critical(KeyUsage(digitalSignature: true))
                    try ExtendedKeyUsage([usage == .serverAuth ? .serverAuth : .clientAuth])
                    if !names.isEmpty { SubjectAlternativeNames(names) }
                },
                issuerPrivateKey: .init(key))
            return (certificate, leafKey)
        }
    }
}
