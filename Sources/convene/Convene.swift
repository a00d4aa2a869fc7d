import ArgumentParser
import ConveneClient
import ConveneRPC
import ConveneTransport
import Foundation

@main
struct Convene: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convene",
        abstract: "Talk to a Convene server.",
        subcommands: [Health.self, List.self, Call.self, Describe.self, Plugins.self, Bench.self, Demo.self])

    /// `convene --target HOST:PORT health` and `convene health --target HOST:PORT` both work:
    /// options given before the subcommand are moved after it.
    static func main() async {
        await main(hoistingGlobalOptions(Array(CommandLine.arguments.dropFirst())))
    }

    static func hoistingGlobalOptions(_ arguments: [String]) -> [String] {
        let names = Set(configuration.subcommands.map { $0._commandName })
        guard let index = arguments.firstIndex(where: { names.contains($0) }), index > 0 else { return arguments }
        return [arguments[index]] + arguments[..<index] + arguments[(index + 1)...]
    }
}

/// Options every subcommand takes.
struct GlobalOptions: ParsableArguments {
    @Option(help: "Server address as HOST:PORT.")
    var target = "127.0.0.1:7353"

    @Option(help: "Seconds before the call is abandoned (sent as the call's deadline).")
    var timeout: Double = 10

    @Option(name: .customLong("token-file"), help: "File holding a bearer token (or set CONVENE_TOKEN).")
    var tokenFile: String?

    func client() throws -> ConveneClient {
        try ConveneClient(target: target)
    }

    /// The credential: --token-file, else $CONVENE_TOKEN, else none.
    func token() throws -> String? {
        if let tokenFile {
            guard let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
                throw ValidationError("--token-file: cannot read \(tokenFile)")
            }
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return ProcessInfo.processInfo.environment["CONVENE_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
    }

    var callOptions: CallOptions {
        var options = CallOptions(timeout: .milliseconds(Int(timeout * 1000)))
        if let token = try? token() { options.metadata.add("authorization", "Bearer \(token)") }
        return options
    }
}

/// Prints a failed call as `CODE: message` on stderr and exits non-zero.
func fail(_ error: any Error) -> ExitCode {
    let rpc = error as? RPCError ?? RPCError(.unavailable, "\(error)")
    FileHandle.standardError.write(Data("\(rpc.code.name): \(rpc.message)\n".utf8))
    return ExitCode(2)
}
