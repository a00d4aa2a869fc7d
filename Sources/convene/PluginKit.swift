import ArgumentParser
import ConvenePluginHost
import ConvenePluginTesting
import Foundation

/// `convene plugin`: the plugin developer's kit: scaffold a plugin, test it in memory.
struct PluginKit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugin",
        abstract: "Write a plugin: scaffold one (new) and test it in memory, with no server (test). See Docs/PLUGINS.md.",
        subcommands: [PluginNew.self, PluginTest.self])
}

struct PluginTest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Load a plugin library into an in-memory host (no server) and run test scripts on it.",
        discussion: """
        Each SCRIPT runs on a fresh host and storage. Its output (each line of the script, each \
        command followed by what it printed) is written to SCRIPT with the extension .out and compared \
        with SCRIPT with the extension .expected: the test passes when they are equal, as pg_regress \
        compares. --update writes the .expected files. With -e, the lines given run instead of \
        scripts and their output is printed.

        Commands: caller PARTY [ROLE...] (president, member, secretariat, administrator); \
        seed KEY VALUE (text, or 0x hex); hide mtg-N|op-N; call METHOD {json} | 0xHEX; \
        event KIND SUBJECT [OPERATION]; rule Q OBJECT [PARTY] = N [PROVISION [REASON...]] (what ask_rule \
        answers); storage [PREFIX]; events. Lines starting with # are comments.
        """)

    @Argument(help: "The plugin's shared library (.so).")
    var library: String

    @Argument(help: "Test scripts (NAME.test beside NAME.expected).")
    var scripts: [String] = []

    @Option(name: .customShort("e"), help: "A script line to run (repeatable); the output is printed.")
    var lines: [String] = []

    @Flag(help: "Write each script's output as its expected output.")
    var update = false

    @Option(help: "Seconds a call or an event reaction may take.")
    var timeout: Double = 10

    func validate() throws {
        guard !scripts.isEmpty || !lines.isEmpty else { throw ValidationError("give test scripts or -e lines") }
        guard scripts.isEmpty || lines.isEmpty else { throw ValidationError("give test scripts or -e lines, not both") }
        guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout: between 0 and 3600 seconds") }
    }

    func run() async throws {
        let library = absolutePath(self.library)
        if !lines.isEmpty {
            let output = try await session(library) { PluginTestScript(session: $0).run(lines.joined(separator: "\n")) }
            print(output, terminator: output.hasSuffix("\n") ? "" : "\n")
            return
        }
        var failed: [String] = []
        for script in scripts {
            guard let text = try? String(contentsOfFile: script, encoding: .utf8) else {
                throw ValidationError("cannot read \(script)")
            }
            let output = try await session(library) { PluginTestScript(session: $0).run(text) }
            let base = (script as NSString).deletingPathExtension
            try output.write(toFile: base + ".out", atomically: true, encoding: .utf8)
            if update {
                try output.write(toFile: base + ".expected", atomically: true, encoding: .utf8)
                print("updated \(base).expected")
                continue
            }
            guard let expected = try? String(contentsOfFile: base + ".expected", encoding: .utf8) else {
                print("FAIL \(script): no \(base).expected (run with --update to write it from \(base).out)")
                failed.append(script)
                continue
            }
            if expected == output {
                print("ok \(script)")
            } else {
                print("FAIL \(script): its output (\(base).out) differs from \(base).expected:")
                print(lineDifference(expected: expected, actual: output), terminator: "")
                failed.append(script)
            }
        }
        if !failed.isEmpty {
            print("\(failed.count) of \(scripts.count) failed")
            throw ExitCode(1)
        }
    }

    /// Runs `body` on a fresh session of the library, then unloads it.
    private func session(_ library: String, _ body: (PluginTestSession) -> String) async throws -> String {
        let session: PluginTestSession
        do {
            session = try PluginTestSession(library: library, timeout: .milliseconds(Int(timeout * 1000)))
        } catch {
            FileHandle.standardError.write(Data("cannot load \(library): \(error)\n".utf8))
            throw ExitCode(2)
        }
        let output = body(session)
        await session.close()
        return output
    }
}

/// The lines that differ, as `-expected` and `+actual` with their line numbers.
func lineDifference(expected: String, actual: String) -> String {
    let old = expected.split(separator: "\n", omittingEmptySubsequences: false)
    let new = actual.split(separator: "\n", omittingEmptySubsequences: false)
    var text = ""
    for index in 0..<max(old.count, new.count) {
        let a = index < old.count ? String(old[index]) : nil
        let b = index < new.count ? String(new[index]) : nil
        guard a != b else { continue }
        if let a { text += "  line \(index + 1) -\(a)\n" }
        if let b { text += "  line \(index + 1) +\(b)\n" }
    }
    return text
}
