import ArgumentParser
import ConveneClient

struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the server's methods, one package.Service/Method per line (from reflection).")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let client = try global.client()
        defer { Task { await client.close() } }
        do {
            let response = try await client.reflection.listServices(options: global.callOptions)
            for service in response.services {
                for method in service.methods { print("\(service.name)/\(method.name)") }
            }
        } catch {
            throw fail(error)
        }
    }
}
