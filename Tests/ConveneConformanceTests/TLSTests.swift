import ConveneClient
import ConveneRPC
import ConveneServer
import ConveneTransport
import Foundation
import XCTest

/// TLS and mutual TLS through swift-nio-ssl, with certificates made for each test, over
/// real sockets on 127.0.0.1.
final class TLSTests: XCTestCase {
    var pki: TestCertificates!

    override func setUpWithError() throws { pki = try TestCertificates.make() }
    override func tearDown() { pki?.remove() }

    func tlsServer(mutual: Bool = false) async throws -> TestServer {
        let pki = self.pki!
        return try await TestServer.start {
            $0.tls = ServerTLS(certificateChainPath: pki.serverCertificatePath, privateKeyPath: pki.serverKeyPath,
                               clientCAPath: mutual ? pki.caPath : nil)
        }
    }

    /// A client whose calls carry the administrator's credential (the benchmark needs one).
    func client(_ server: TestServer, host: String = "127.0.0.1", _ tls: ClientTLS?) -> ConveneClient {
        var configuration = ConnectionConfiguration()
        configuration.handshakeTimeout = .seconds(5)
        let options = (try? server.adminToken).map { CallOptions.bearer($0) } ?? CallOptions()
        return ConveneClient(host: host, port: server.port, configuration: configuration, defaultOptions: options, tls: tls)
    }

    /// A healthy TLS client, to show the server still serves after a refusal.
    func assertServes(_ server: TestServer, _ tls: ClientTLS, file: StaticString = #filePath, line: UInt = #line) async throws {
        let client = client(server, tls)
        let reply = try await client.benchmark.echo(Array("still serving".utf8))
        XCTAssertEqual(reply.payload, Data("still serving".utf8), file: file, line: line)
        await client.close()
    }

    func testCallsOverTLSByIPAddressAndByName() async throws {
        let server = try await tlsServer()
        // By IP: verified against the certificate's IP subject alternative name.
        let byIP = client(server, ClientTLS(trustRootsPath: pki.caPath))
        let status = try await byIP.health.check()
        XCTAssertEqual(status.status, .serving)
        // A 1 MiB message crosses many TLS records each way.
        let big = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let echoed = try await byIP.benchmark.echo(big)
        XCTAssertEqual(echoed.payload, Data(big))
        await byIP.close()
        // By name: SNI and hostname verification against the DNS name.
        let byName = client(server, host: "localhost", ClientTLS(trustRootsPath: pki.caPath))
        let named = try await byName.benchmark.echo(Array("by name".utf8))
        XCTAssertEqual(named.payload, Data("by name".utf8))
        await byName.close()
        await server.stop()
    }

    func testAClientThatDoesNotTrustTheServerIsRefused() async throws {
        let server = try await tlsServer()
        let untrusting = client(server, ClientTLS(trustRootsPath: pki.otherCAPath))
        let error = await assertRPCError(.unavailable) { try await untrusting.health.check() }
        XCTAssertTrue(error?.message.contains("handshake") ?? false, error?.message ?? "")
        await untrusting.close()
        try await assertServes(server, ClientTLS(trustRootsPath: pki.caPath))
        await server.stop()
    }

    func testTheServerNameIsVerified() async throws {
        let pki = self.pki!
        let server = try await TestServer.start {
            $0.tls = ServerTLS(certificateChainPath: pki.namedCertificatePath, privateKeyPath: pki.namedKeyPath)
        }
        let rightName = client(server, ClientTLS(trustRootsPath: pki.caPath, serverHostname: "convene.example"))
        let status = try await rightName.health.check()
        XCTAssertEqual(status.status, .serving)
        await rightName.close()
        let wrongName = client(server, ClientTLS(trustRootsPath: pki.caPath, serverHostname: "elsewhere.example"))
        let error = await assertRPCError(.unavailable) { try await wrongName.health.check() }
        XCTAssertTrue(error?.message.contains("elsewhere.example") ?? false, error?.message ?? "")
        await wrongName.close()
        // By IP address, which the certificate does not name.
        let byAddress = client(server, ClientTLS(trustRootsPath: pki.caPath))
        await assertRPCError(.unavailable) { try await byAddress.health.check() }
        await byAddress.close()
        await server.stop()
    }

    func testAPlaintextClientGetsNoServiceFromATLSServer() async throws {
        let server = try await tlsServer()
        let plain = client(server, nil)
        await assertRPCError(.unavailable) { try await plain.health.check() }
        await plain.close()
        try await assertServes(server, ClientTLS(trustRootsPath: pki.caPath))
        await server.stop()
    }

    func testMutualTLSAdmitsOnlyClientsWithACertificateFromTheClientCA() async throws {
        let server = try await tlsServer(mutual: true)
        let trusted = ClientTLS(trustRootsPath: pki.caPath, certificateChainPath: pki.clientCertificatePath,
                                privateKeyPath: pki.clientKeyPath)
        try await assertServes(server, trusted)

        let anonymous = client(server, ClientTLS(trustRootsPath: pki.caPath))
        await assertRPCError(.unavailable) { try await anonymous.health.check() }
        await anonymous.close()

        let stranger = client(server, ClientTLS(trustRootsPath: pki.caPath, certificateChainPath: pki.strangerCertificatePath,
                                                privateKeyPath: pki.strangerKeyPath))
        await assertRPCError(.unavailable) { try await stranger.health.check() }
        await stranger.close()

        try await assertServes(server, trusted)
        await server.stop()
    }

    func testBadTLSFilesAreNamedInTheError() throws {
        let missing = ServerTLS(certificateChainPath: pki.path("absent.pem"), privateKeyPath: pki.serverKeyPath)
        XCTAssertThrowsError(try missing.makeContext()) { error in
            XCTAssertTrue("\(error)".contains("absent.pem"), "\(error)")
        }
        let keyAsCertificate = ServerTLS(certificateChainPath: pki.serverKeyPath, privateKeyPath: pki.serverKeyPath)
        XCTAssertThrowsError(try keyAsCertificate.makeContext()) { error in
            XCTAssertTrue("\(error)".contains("server-key.pem"), "\(error)")
        }
        // A key that does not belong to the certificate.
        let mismatched = ServerTLS(certificateChainPath: pki.serverCertificatePath, privateKeyPath: pki.clientKeyPath)
        XCTAssertThrowsError(try mismatched.makeContext()) { error in
            XCTAssertTrue("\(error)".contains("server.pem"), "\(error)")
        }
        let halfClient = ClientTLS(trustRootsPath: pki.caPath, certificateChainPath: pki.clientCertificatePath)
        XCTAssertThrowsError(try halfClient.makeContext())
    }
}
