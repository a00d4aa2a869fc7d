import Foundation
import XCTest

/// The built `convened` and `convene` executables, as a person runs them.
final class ExecutableTests: XCTestCase {
    /// Folder of the built products (the test bundle sits beside them).
    var binDirectory: URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    }

    func run(_ tool: String, _ arguments: [String], environment: [String: String] = [:]) throws
        -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = binDirectory.appendingPathComponent(tool)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus,
                String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self),
                String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }

    func testServerStartsAnswersTheCLIAndStopsGracefullyOnSIGTERM() throws {
        let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("convened-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dataDir) }
        let port = unusedLocalPort()
        let server = Process()
        server.executableURL = binDirectory.appendingPathComponent("convened")
        server.arguments = ["--host", "127.0.0.1", "--port", "\(port)", "--grpc-port", "0", "--data-dir", dataDir.path,
                            "--shutdown-grace", "2"]
        let serverErr = Pipe()
        server.standardError = serverErr
        try server.run()
        defer { if server.isRunning { server.terminate() } }

        // Bounded wait for the server to answer.
        var health = try run("convene", ["--target", "127.0.0.1:\(port)", "health", "--timeout", "2"])
        for _ in 0..<100 where health.status != 0 {
            Thread.sleep(forTimeInterval: 0.1)
            health = try run("convene", ["--target", "127.0.0.1:\(port)", "health", "--timeout", "2"])
        }
        XCTAssertEqual(health.status, 0, health.err)
        XCTAssertEqual(health.out, "serving\n")
        XCTAssertTrue(FileManager.default.fileExists(atPath: dataDir.path), "data directory created")

        let list = try run("convene", ["--target", "127.0.0.1:\(port)", "list"])
        XCTAssertEqual(list.status, 0, list.err)
        let methods = list.out.split(separator: "\n").map(String.init)
        XCTAssertTrue(methods.contains("convene.health.v1.Health/Check"), list.out)
        XCTAssertTrue(methods.contains("convene.benchmark.v1.Benchmark/UnaryEcho"), list.out)
        XCTAssertEqual(methods, methods.sorted())

        let anonymous = try run("convene", ["--target", "127.0.0.1:\(port)", "plugins"])
        XCTAssertTrue(anonymous.err.hasPrefix("UNAUTHENTICATED: "), anonymous.err)
        let plugins = try run("convene", ["--target", "127.0.0.1:\(port)", "--token-file", dataDir.path + "/admin.token", "plugins"])
        XCTAssertEqual(plugins.status, 0, plugins.err)
        XCTAssertTrue(plugins.out.contains("groups-of-friends 1.2.0 (ABI 1.3) serving, in-process"), plugins.out)
        XCTAssertTrue(plugins.out.contains("  file \(binDirectory.path)/libConvenePlugin_Friends.so"), plugins.out)
        XCTAssertTrue(plugins.out.contains("  method convene.friends.v1.GroupsOfFriends/FormGroup"), plugins.out)
        XCTAssertTrue(plugins.out.contains("  event meeting.convened"), plugins.out)
        XCTAssertTrue(plugins.out.contains("training-centres 1.0.0 (ABI 1.3) serving, in-process"), plugins.out)

        // call and describe, for any reflected method: JSON in, JSON out.
        let target = ["--target", "127.0.0.1:\(port)"]
        let admin = ["--token-file", dataDir.path + "/admin.token"]
        let anonymousEcho = try run("convene", target + ["call", "convene.benchmark.v1.Benchmark/UnaryEcho", "--data", "{}"])
        XCTAssertEqual(anonymousEcho.status, 2)
        XCTAssertTrue(anonymousEcho.err.hasPrefix("UNAUTHENTICATED: "), anonymousEcho.err)
        let echo = try run("convene", target + admin + ["call", "convene.benchmark.v1.Benchmark/UnaryEcho",
                                                        "--data", #"{"payload":"aGVsbG8="}"#])
        XCTAssertEqual(echo.out, #"{"payload":"aGVsbG8="}"# + "\n", echo.err)
        let stream = try run("convene", target + admin + ["call", "convene.benchmark.v1.Benchmark/StreamFromServer",
                                                          "-d", #"{"count":2,"size":3}"#, "--compress"])
        XCTAssertEqual(stream.out, #"{"payload":"Q0ND"}"# + "\n" + #"{"payload":"Q0ND"}"# + "\n", stream.err)
        let registered = try run("convene", target + ["--token-file", dataDir.path + "/admin.token", "call",
                                                      "convene.admin.v1.Administration/RegisterParty",
                                                      "-d", #"{"name":"Aurelia","kind":"MEMBER_STATE"}"#])
        XCTAssertEqual(registered.status, 0, registered.err)
        XCTAssertTrue(registered.out.contains(#""name":"Aurelia""#), registered.out)
        let refused = try run("convene", target + ["call", "convene.admin.v1.Administration/ListParties"])
        XCTAssertEqual(refused.status, 2)
        XCTAssertTrue(refused.err.hasPrefix("UNAUTHENTICATED: "), refused.err)
        let bad = try run("convene", target + ["call", "convene.health.v1.Health/Check", "-d", #"{"nope":1}"#])
        XCTAssertEqual(bad.err, "INVALID_ARGUMENT: convene.health.v1.HealthCheckRequest has no field 'nope'\n")
        let described = try run("convene", target + ["describe", "convene.benchmark.v1.Benchmark/StreamFromServer"])
        XCTAssertTrue(described.out.contains("rpc StreamFromServer(convene.benchmark.v1.StreamRequest) returns (stream convene.benchmark.v1.StreamResponse);"),
                      described.out)
        XCTAssertTrue(described.out.contains("uint32 count = 1;"), described.out)
        // An enum a method's messages use is printed with its values, as a message is with its fields.
        let meeting = try run("convene", target + ["describe", "convene.consultation.v1.Consultation/ConveneMeeting"])
        for line in ["  convene.consultation.v1.Stage stage = 4;", "enum convene.consultation.v1.Stage {",
                     "  RAPID_DETERIORATION = 5;", "enum convene.consultation.v1.MeetingForm {"] {
            XCTAssertTrue(meeting.out.contains(line + "\n"), "missing \(line):\n\(meeting.out)")
        }
        XCTAssertEqual(meeting.out.components(separatedBy: "enum convene.consultation.v1.Stage {").count, 2, "each enum once")

        // bench: closed and open loop, a fixed number of calls, one JSON object and an HTML report.
        let report = dataDir.appendingPathComponent("bench.html").path
        for mode in [["--concurrency", "4"], ["--rate", "400", "--concurrency", "8"]] {
            let bench = try run("convene", target + admin + ["bench", "--requests", "100", "--warmup", "0", "--json", "--html", report] + mode)
            XCTAssertEqual(bench.status, 0, bench.err)
            let object = try JSONSerialization.jsonObject(with: Data(bench.out.utf8)) as? [String: Any] ?? [:]
            XCTAssertEqual(object["requests"] as? Int, 100, bench.out)
            XCTAssertEqual(object["errors"] as? Int, 0, bench.out)
            for key in ["duration_s", "rps", "p50_us", "p90_us", "p99_us", "p999_us", "max_us"] {
                XCTAssertNotNil(object[key], "\(key) missing from \(bench.out)")
            }
            XCTAssertLessThanOrEqual(object["p50_us"] as? Int ?? .max, object["max_us"] as? Int ?? 0)
        }
        // bench on the streaming methods: each message is one operation.
        for kind in ["server-stream", "client-stream", "bidi"] {
            let bench = try run("convene", target + admin + ["bench", "--kind", kind, "--requests", "300", "--stream-messages", "40",
                                                     "--payload", "512", "--warmup", "0", "--concurrency", "3", "--json"])
            XCTAssertEqual(bench.status, 0, bench.err)
            let object = try JSONSerialization.jsonObject(with: Data(bench.out.utf8)) as? [String: Any] ?? [:]
            XCTAssertEqual(object["kind"] as? String, kind, bench.out)
            XCTAssertEqual(object["requests"] as? Int, 300, bench.out)
            XCTAssertEqual(object["errors"] as? Int, 0, bench.out)
            XCTAssertEqual(object["payload_bytes"] as? Int, 512, bench.out)
        }
        let page = try String(contentsOfFile: report, encoding: .utf8)
        XCTAssertTrue(page.contains("<svg") && page.contains("<polyline"), "the report plots the distribution")

        let unknown = try run("convene", ["--target", "127.0.0.1:\(port)", "health", "--service", "no.Such"])
        XCTAssertEqual(unknown.status, 2)
        XCTAssertEqual(unknown.err, "NOT_FOUND: unknown service 'no.Such'\n")

        server.terminate()  // SIGTERM
        let deadline = Date().addingTimeInterval(15)
        while server.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        XCTAssertFalse(server.isRunning, "convened did not exit after SIGTERM")
        XCTAssertEqual(server.terminationStatus, 0)
        let log = String(decoding: serverErr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertTrue(log.contains("convened listening"), log)
        XCTAssertTrue(log.contains("shutting down"), log)

        let down = try run("convene", ["--target", "127.0.0.1:\(port)", "health", "--timeout", "1"])
        XCTAssertEqual(down.status, 2)
        XCTAssertTrue(down.err.hasPrefix("UNAVAILABLE: "), down.err)
    }

    func testTLSFromTheCommandLine() throws {
        let pki = try TestCertificates.make()
        defer { pki.remove() }
        let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("convened-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dataDir) }
        let port = unusedLocalPort()
        let server = Process()
        server.executableURL = binDirectory.appendingPathComponent("convened")
        server.arguments = ["--host", "127.0.0.1", "--port", "\(port)", "--grpc-port", "0", "--data-dir", dataDir.path, "--shutdown-grace", "1",
                            "--tls-cert", pki.serverCertificatePath, "--tls-key", pki.serverKeyPath]
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { if server.isRunning { server.terminate() } }

        let target = ["--target", "127.0.0.1:\(port)"]
        var health = try run("convene", target + ["--ca", pki.caPath, "health", "--timeout", "2"])
        for _ in 0..<100 where health.status != 0 {
            Thread.sleep(forTimeInterval: 0.1)
            health = try run("convene", target + ["--ca", pki.caPath, "health", "--timeout", "2"])
        }
        XCTAssertEqual(health.status, 0, health.err)
        XCTAssertEqual(health.out, "serving\n")
        let plaintext = try run("convene", target + ["health", "--timeout", "2"])
        XCTAssertEqual(plaintext.status, 2)
        XCTAssertTrue(plaintext.err.hasPrefix("UNAVAILABLE: "), plaintext.err)
        let untrusted = try run("convene", target + ["--tls", "health", "--timeout", "2"])
        XCTAssertEqual(untrusted.status, 2, "the system's CAs do not trust the test CA")
        // The credential from the environment, as every subcommand takes it.
        let token = try String(contentsOf: dataDir.appendingPathComponent("admin.token"), encoding: .utf8)
        let bench = try run("convene", target + ["--ca", pki.caPath, "bench", "--requests", "50", "--warmup", "0", "--json",
                                                 "--connections", "2", "--concurrency", "4"],
                            environment: ["CONVENE_TOKEN": token.trimmingCharacters(in: .whitespacesAndNewlines)])
        XCTAssertEqual(bench.status, 0, bench.err)
        let object = try JSONSerialization.jsonObject(with: Data(bench.out.utf8)) as? [String: Any] ?? [:]
        XCTAssertEqual(object["requests"] as? Int, 50, bench.out)
        XCTAssertEqual(object["errors"] as? Int, 0, bench.out)

        // A key file that is not a key stops convened at start with the file named.
        let refused = try run("convened", ["--port", "0", "--grpc-port", "0", "--data-dir", dataDir.path,
                                           "--tls-cert", pki.serverCertificatePath, "--tls-key", pki.caPath])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.err.contains("ca.pem"), refused.err)
    }
}
