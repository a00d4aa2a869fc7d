import ArgumentParser
import ConveneClient
import ConveneProtos
import Foundation

struct Health: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the server's health; exit 0 when it is serving.",
        discussion: "With --wait, asks again (every 0.2 s) until the server answers serving or the seconds pass: for scripts that start a server.")

    @OptionGroup var global: GlobalOptions

    @Option(help: "A service name; empty for the server as a whole.")
    var service = ""

    @Option(help: "Seconds to keep asking until the server is serving (0: ask once).")
    var wait: Double = 0

    func validate() throws {
        guard wait >= 0, wait <= 3600 else { throw ValidationError("--wait: between 0 and 3600 seconds") }
    }

    func run() async throws {
        let deadline = Date().addingTimeInterval(wait)
        var outcome = await check()
        while Date() < deadline, (try? outcome.get()) != .serving {
            try await Task.sleep(for: .milliseconds(200))
            outcome = await check()
        }
        switch outcome {
        case .success(let status):
            print(status)
            if status != .serving { throw ExitCode(1) }
        case .failure(let error):
            throw fail(error)
        }
    }

    /// One health check, on a connection of its own (a server starting may refuse the first).
    private func check() async -> Result<Convene_Health_V1_HealthCheckResponse.ServingStatus, any Error> {
        do {
            let client = try global.client()
            defer { Task { await client.close() } }
            return .success(try await client.health.check(service: service, options: global.callOptions).status)
        } catch {
            return .failure(error)
        }
    }
}
