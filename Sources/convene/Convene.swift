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
        subcommands: [Health.self, List.self, Call.self, Describe.self, Plugins.self, PluginKit.self, Bench.self, Demo.self])

    /// `convene --target HOST:PORT health` and `convene health --target HOST:PORT` both work:
    /// options given before the subcommand are moved after it.
    static func main() async {
        await main(hoistingGlobalOptions(Array(CommandLine.arguments.dropFirst())))
    }

    /// A command group's subcommand (`plugins load`) moves with it.
    static func hoistingGlobalOptions(_ arguments: [String]) -> [String] {
        let commands = Dictionary(configuration.subcommands.map { ($0._commandName, $0) }, uniquingKeysWith: { first, _ in first })
        guard let index = arguments.firstIndex(where: { commands[$0] != nil }), index > 0 else { return arguments }
        var end = index + 1
        let nested = Set(commands[arguments[index]]?.configuration.subcommands.map { $0._commandName } ?? [])
        if end < arguments.count, nested.contains(arguments[end]) { end += 1 }
        return Array(arguments[index..<end]) + arguments[..<index] + arguments[end...]
    }
}

/// Options every subcommand takes.
struct GlobalOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Server address as HOST:PORT; several separated by commas (A:7353,B:7353), or a name with several addresses, spread the calls over the servers and move to a live one when one goes away.",
                               valueName: "targets"))
    var target = "127.0.0.1:7353"

    @Option(help: "Seconds before the call is abandoned (sent as the call's deadline).")
    var timeout: Double = 10

    @Option(name: .customLong("token-file"), help: "File holding a bearer token (or set CONVENE_TOKEN).")
    var tokenFile: String?

    @Flag(help: "Connect with TLS, trusting the system's CAs unless --ca is given.")
    var tls = false

    @Option(help: "PEM file of the CA certificates that issue the server's certificate (implies --tls).")
    var ca: String?

    @Option(help: "PEM client certificate chain, for servers that require mutual TLS (implies --tls; needs --key).")
    var cert: String?

    @Option(help: "PEM private key of --cert.")
    var key: String?

    @Option(name: .customLong("server-name"), help: "Name to verify the server's certificate against (default: the target's host).")
    var serverName: String?

    /// A --token-file that cannot be read, or is empty, is an error before anything is sent
    /// (sent without it, the call would only be refused as unauthenticated).
    func validate() throws {
        _ = try token()
    }

    func client() throws -> ConveneClient {
        try ConveneClient(target: target, tls: clientTLS())
    }

    /// TLS settings from --tls, --ca, --cert, --key and --server-name; nil for plaintext.
    func clientTLS() throws -> ClientTLS? {
        guard tls || ca != nil || cert != nil || key != nil || serverName != nil else { return nil }
        if (cert == nil) != (key == nil) { throw ValidationError("--cert and --key go together") }
        return ClientTLS(trustRootsPath: ca, certificateChainPath: cert, privateKeyPath: key, serverHostname: serverName)
    }

    /// The credential: --token-file, else $CONVENE_TOKEN, else none.
    func token() throws -> String? {
        if let tokenFile {
            guard let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
                throw ValidationError("--token-file: cannot read \(tokenFile)")
            }
            let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
            // An empty file (a step that should have written it failed) is named, rather than
            // sent as an empty credential the server can only call malformed.
            guard !token.isEmpty else { throw ValidationError("--token-file: \(tokenFile) is empty; it should hold a bearer token") }
            return token
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
