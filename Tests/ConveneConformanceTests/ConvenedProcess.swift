import ConveneClient
import ConveneTransport
import Foundation

/// A real `convened` in a child process, as the tests that kill it need.
struct ConvenedProcess {
    static var binDirectory: URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    }

    let process: Process
    let port: Int
    let dataDir: String

    /// Starts `convened` on `port` with its state in `dataDir`; its log goes to `log` (or nowhere).
    init(port: Int, dataDir: String, arguments: [String] = [], log: FileHandle? = nil) throws {
        process = Process()
        process.executableURL = Self.binDirectory.appendingPathComponent("convened")
        process.arguments = ["--port", "\(port)", "--grpc-port", "0", "--data-dir", dataDir, "--log-level", log == nil ? "error" : "info"] + arguments
        process.standardError = log ?? FileHandle.nullDevice
        try process.run()
        self.port = port
        self.dataDir = dataDir
    }

    var adminToken: String {
        get throws {
            try String(contentsOfFile: dataDir + "/admin.token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// Waits (30 s at most: a start after SIGKILL recovers the database and loads the
    /// plugins, slow on a loaded machine) until the server answers health SERVING.
    static func waitHealthy(_ client: ConveneClient) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if (try? await client.health.check(options: CallOptions(timeout: .milliseconds(500))).status) == .serving { return true }
            try? await Task.sleep(for: .milliseconds(25))
        }
        return false
    }

    func kill() {
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Sends SIGTERM; true when the process exited within `limit`.
    func terminate(within limit: TimeInterval) -> Bool {
        process.terminate()
        let deadline = Date().addingTimeInterval(limit)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        return !process.isRunning
    }
}
