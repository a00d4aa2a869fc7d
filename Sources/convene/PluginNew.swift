import ArgumentParser
import Foundation

/// `convene plugin new NAME --lang c|swift`: a complete plugin project outside any Convene checkout.
struct PluginNew: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new",
        abstract: "Write a new plugin project: its proto, a method using storage, an event reaction, its build and its test.",
        discussion: """
        The project builds with `make` against an installed plugin SDK (`make install-sdk PREFIX=...` in \
        Convene's source): --sdk PREFIX, else $CONVENE_SDK, else the prefix this convene is installed in. \
        `make test` runs its test with `convene plugin test`.
        """)

    enum Language: String, ExpressibleByArgument, CaseIterable { case c, swift }

    @Argument(help: "The plugin's name: lowercase letters, digits and '-', starting with a letter (e.g. vote-tally).")
    var name: String

    @Option(help: "c or swift.")
    var lang: Language

    @Option(help: "The folder to write (default: ./NAME); it must not exist or be empty.")
    var dir: String?

    @Option(help: "The installed plugin SDK's prefix.")
    var sdk: String?

    func validate() throws {
        guard PluginNames(name) != nil else {
            throw ValidationError("NAME: lowercase letters, digits and single '-' between them, starting with a letter, at most 40 characters: '\(name)'")
        }
    }

    func run() throws {
        guard let names = PluginNames(name) else { throw ExitCode(2) }
        let prefix = try sdkPrefix()
        let folder = absolutePath(dir ?? name)
        let files = FileManager.default
        if let existing = try? files.contentsOfDirectory(atPath: folder), !existing.isEmpty {
            throw ValidationError("\(folder) exists and is not empty")
        }
        let project = PluginProject(names: names, sdk: prefix, convene: Self.executablePath)
        let contents = lang == .c ? project.cFiles : project.swiftFiles
        for (path, text) in contents {
            let file = (folder as NSString).appendingPathComponent(path)
            try files.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: file, atomically: true, encoding: .utf8)
        }
        if lang == .swift {
            // `swift build` needs the generated code before any make: the messages, descriptor set and entry point.
            try Self.runTool(prefix + "/bin/convene-plugin-protoc",
                             ["swift", "proto", "Sources/\(names.type)/Generated", project.protoPath, names.type], in: folder)
        }
        print("wrote \(names.plugin) (\(lang.rawValue)) in \(folder)")
        print("next: cd \(folder) && make && make test")
    }

    /// --sdk, $CONVENE_SDK, or the prefix of this executable (PREFIX/bin/convene); checked.
    func sdkPrefix() throws -> String {
        let header = "/include/convene/convene_plugin.h"
        if let given = sdk ?? ProcessInfo.processInfo.environment["CONVENE_SDK"] {
            let prefix = absolutePath(given)
            guard FileManager.default.fileExists(atPath: prefix + header) else {
                throw ValidationError("\(prefix) holds no Convene plugin SDK (no \(header.dropFirst())): install it with `make install-sdk PREFIX=\(prefix)` in Convene's source")
            }
            return prefix
        }
        let installed = ((Self.executablePath as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent
        guard FileManager.default.fileExists(atPath: installed + header) else {
            throw ValidationError("no Convene plugin SDK found: install one with `make install-sdk PREFIX=DIR` in Convene's source, then pass --sdk DIR (or set CONVENE_SDK)")
        }
        return installed
    }

    /// This executable's path (what the project's Makefile runs `plugin test` with).
    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    static func runTool(_ tool: String, _ arguments: [String], in folder: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ValidationError("\(tool) \(arguments.joined(separator: " ")) failed (exit \(process.terminationStatus))")
        }
    }
}

/// The names a plugin goes by, from its plugin name ("vote-tally"): the C and proto
/// identifier ("vote_tally"), the Swift and proto service type ("VoteTally").
struct PluginNames {
    let plugin: String
    let ident: String
    let type: String

    init?(_ name: String) {
        guard (1...40).contains(name.count), let first = name.unicodeScalars.first, ("a"..."z").contains(first),
              name.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }),
              !name.hasSuffix("-"), !name.contains("--") else { return nil }
        plugin = name
        ident = name.replacingOccurrences(of: "-", with: "_")
        type = name.split(separator: "-").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    /// The proto package, e.g. "vote_tally.v1".
    var package: String { "\(ident).v1" }
}
