import ConveneClient
import ConveneRPC
import ConveneTesting
import Foundation
import XCTest

/// One `convened` of a cluster, run as an operator runs it: its own process on 127.0.0.1 (a free
/// port, the gRPC listener off), its own data directory, the cluster's database.
final class ServerProcess: @unchecked Sendable {
    let name: String
    let databaseURL: String
    let dataDirectory: String
    /// Further options of `convened`.
    let arguments: [String]
    private let state = Locked(State())

    private struct State {
        var process: Process?
        var port = 0
        var log = ""
    }

    init(name: String, databaseURL: String, arguments: [String] = []) {
        self.name = name
        self.databaseURL = databaseURL
        self.arguments = arguments
        dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("convene-cluster-\(name)-\(UUID().uuidString)").path
    }

    /// The folder of the built products (the test bundle sits beside them).
    static var binDirectory: URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    }

    var port: Int { state.withLock { $0.port } }
    var log: String { state.withLock { $0.log } }
    var isRunning: Bool { state.withLock { $0.process?.isRunning ?? false } }

    /// Starts it (on `port`, 0 for a free one) and returns once it listens (at most 60 s).
    func start(port: Int = 0) async throws {
        let process = Process()
        process.executableURL = Self.binDirectory.appendingPathComponent("convened")
        process.arguments = ["--host", "127.0.0.1", "--port", "\(port)", "--grpc-port", "0", "--data-dir", dataDirectory,
                             "--database", databaseURL, "--database-pool-size", "4", "--shutdown-grace", "2", "--log-level", "info"] + arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        errors.fileHandleForReading.readabilityHandler = { [state] handle in
            let data = handle.availableData
            if data.isEmpty { handle.readabilityHandler = nil; return }
            state.withLock { $0.log += String(decoding: data, as: UTF8.self) }
        }
        state.withLock { $0 = State(process: process, port: 0, log: "") }
        try process.run()
        let deadline = ContinuousClock.now.advanced(by: .seconds(60))
        while ContinuousClock.now < deadline {
            if let bound = Self.listeningPort(in: log) {
                state.withLock { $0.port = bound }
                return
            }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        process.terminate()
        throw ClusterError("\(name) did not start listening; its log:\n\(log)")
    }

    /// The port of the last "convened listening" line (a restarted server logs a second one).
    static func listeningPort(in log: String) -> Int? {
        guard let line = log.split(separator: "\n").last(where: { $0.contains("convened listening") }),
              let range = line.range(of: #"address=\[IPv4\]127\.0\.0\.1/127\.0\.0\.1:\d+"#, options: .regularExpression),
              let colon = line[range].lastIndex(of: ":") else { return nil }
        return Int(line[range][line.index(after: colon)...])
    }

    /// SIGKILL: no drain, no goodbye; waits (at most 10 s) until the process is gone.
    func kill() async {
        await signal(SIGKILL)
    }

    /// SIGTERM: a graceful shutdown; waits (at most 10 s).
    func stop() async {
        await signal(SIGTERM)
    }

    private func signal(_ number: Int32) async {
        guard let process = state.withLock({ $0.process }), process.isRunning else { return }
        Foundation.kill(process.processIdentifier, number)
        for _ in 0..<200 where process.isRunning { try? await Task.sleep(for: .milliseconds(50)) }
    }

    /// Starts it again on the same port and data directory (after `kill` or `stop`).
    func restart() async throws {
        try await start(port: port)
    }

    /// The administrator's token, if this server created the administrator (the first to start).
    var adminToken: String? {
        (try? String(contentsOfFile: dataDirectory + "/admin.token", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func client() -> ConveneClient { ConveneClient(host: "127.0.0.1", port: port) }

    /// Stops it and removes its data directory.
    func remove() async {
        await kill()
        try? FileManager.default.removeItem(atPath: dataDirectory)
    }
}

struct ClusterError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
