import ConveneClient
import ConveneRPC
import ConveneServer
import ConveneTransport
import Logging
import NIOCore
import XCTest

/// A real server on 127.0.0.1 (a free port), with the interop service, for one test.
struct TestServer {
    let server: ConveneServer
    let port: Int

    static func start(_ configure: (inout ServerConfiguration) -> Void = { _ in }) async throws -> TestServer {
        var configuration = ServerConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.enableInterop = true
        configuration.shutdownGrace = .seconds(5)
        configuration.dataDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("convene-test-\(UUID().uuidString)").path
        configure(&configuration)
        var logger = Logger(label: "convene-test")
        logger.logLevel = ProcessInfo.processInfo.environment["CONVENE_TEST_LOG"].flatMap { Logger.Level(rawValue: $0) } ?? .critical
        let server = try ConveneServer(configuration: configuration, logger: logger)
        let address = try await server.start()
        return TestServer(server: server, port: address.port!)
    }

    func client(_ configuration: ConnectionConfiguration = ConnectionConfiguration()) -> ConveneClient {
        ConveneClient(host: "127.0.0.1", port: port, configuration: configuration)
    }

    func stop() async {
        await server.transport.close()
        try? FileManager.default.removeItem(atPath: server.configuration.dataDirectory)
    }
}

/// Runs `body` against a fresh server and client, and always stops both.
func withServer(_ configure: (inout ServerConfiguration) -> Void = { _ in },
                _ body: (TestServer, ConveneClient) async throws -> Void) async throws {
    let server = try await TestServer.start(configure)
    let client = server.client()
    do {
        try await body(server, client)
    } catch {
        await client.close()
        await server.stop()
        throw error
    }
    await client.close()
    await server.stop()
}

/// Asserts that `body` fails with an RPCError of `code`; returns it.
@discardableResult
func assertRPCError<T>(_ code: StatusCode, file: StaticString = #filePath, line: UInt = #line,
                       _ body: () async throws -> T) async -> RPCError? {
    do {
        let value = try await body()
        XCTFail("expected \(code.name), got \(value)", file: file, line: line)
        return nil
    } catch let error as RPCError {
        XCTAssertEqual(error.code, code, "message: \(error.message)", file: file, line: line)
        return error
    } catch {
        XCTFail("expected RPCError \(code.name), got \(error)", file: file, line: line)
        return nil
    }
}

/// Bounded polling, for conditions that become true asynchronously.
func eventually(timeout: Duration = .seconds(10), _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return await condition()
}
