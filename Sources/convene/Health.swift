import ArgumentParser
import ConveneClient

struct Health: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the server's health; exit 0 when it is serving.")

    @OptionGroup var global: GlobalOptions

    @Option(help: "A service name; empty for the server as a whole.")
    var service = ""

    func run() async throws {
        let client = try global.client()
        defer { Task { await client.close() } }
        do {
            let response = try await client.health.check(service: service, options: global.callOptions)
            print(response.status)
            if response.status != .serving { throw ExitCode(1) }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw fail(error)
        }
    }
}
