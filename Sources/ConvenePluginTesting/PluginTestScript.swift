import ConveneClient
import ConvenePluginHost
import ConveneRPC
import Foundation

/// Runs a plugin test script (Docs/PLUGINS.md, "Testing a plugin") on a session and returns
/// its output: every line of the script, each command followed by what it printed. A test
/// passes when that output is the expected file's text, as pg_regress compares.
///
///     # comments and blank lines are copied
///     caller party-3 member secretariat      the party the next calls act for, and its roles
///     seed KEY VALUE                          writes the plugin's storage (VALUE: text, or 0x hex)
///     hide mtg-4                              caller_may_see answers 0 for this meeting or operation
///     rule Q OBJECT [PARTY] = N [PROVISION [REASON...]]
///                                             what ask_rule answers to question Q (1-4, convene_rule_question)
///     call METHOD {"json": 1}                 calls a method (or 0x hex bytes); prints OK and the response, or CODE: message
///     event KIND SUBJECT [OPERATION]          delivers a domain event and waits until the plugin reacted
///     storage [PREFIX]                        prints the plugin's committed storage, by key
///     events                                  prints the events the plugin emitted since the last `events`
public struct PluginTestScript {
    public let session: PluginTestSession

    public init(session: PluginTestSession) {
        self.session = session
    }

    /// The output of running every line of `script`.
    public func run(_ script: String) -> String {
        var output = ""
        for line in script.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            output += line + "\n"
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty, !trimmed.hasPrefix("#") else { continue }
            for result in run(command: trimmed) { output += result + "\n" }
        }
        while output.hasSuffix("\n\n") { output.removeLast() }
        return output
    }

    /// The lines one command prints.
    func run(command line: String) -> [String] {
        let (word, rest) = Self.split(line)
        switch word {
        case "caller": return caller(rest)
        case "seed":
            let (key, value) = Self.split(rest)
            guard !key.isEmpty else { return ["ERROR: seed KEY VALUE"] }
            guard let bytes = Self.bytes(value) else { return ["ERROR: seed: \(value) is not valid hex"] }
            session.services.seed(plugin: session.plugin.name, key: Array(key.utf8), value: bytes)
            return []
        case "hide":
            guard !rest.isEmpty else { return ["ERROR: hide mtg-N or op-N"] }
            session.services.hide(rest)
            return []
        case "rule": return rule(rest)
        case "call": return call(rest)
        case "event":
            let parts = rest.split(separator: " ").map(String.init)
            guard parts.count == 2 || parts.count == 3 else { return ["ERROR: event KIND SUBJECT [OPERATION]"] }
            let failure = session.deliver(kind: parts[0], subject: parts[1], operation: parts.count == 3 ? parts[2] : "op-1",
                                          description: "\(parts[0]) \(parts[1])")
            return [failure.map { "FAILED: \($0)" } ?? "delivered"]
        case "storage":
            return session.services.committed(plugin: session.plugin.name)
                .filter { $0.key.starts(with: Array(rest.utf8)) }
                .sorted { $0.key.lexicographicallyPrecedes($1.key) }
                .map { "  \(Self.show($0.key)) = \(Self.show($0.value))" }
        case "events":
            return session.services.emittedEvents(take: true).map { "  \($0.subjectID) \($0.kind): \($0.description)" }
        default:
            return ["ERROR: unknown command '\(word)' (caller, seed, hide, rule, call, event, storage, events)"]
        }
    }

    private func rule(_ rest: String) -> [String] {
        let usage = ["ERROR: rule QUESTION OBJECT [PARTY] = ANSWER [PROVISION [REASON...]]"]
        let sides = rest.split(separator: "=", maxSplits: 1).map { $0.split(separator: " ").map(String.init) }
        guard sides.count == 2, (2...3).contains(sides[0].count), let question = Int32(sides[0][0]),
              let value = sides[1].first.flatMap({ Int32($0) }) else { return usage }
        let answer = RuleAnswer(value: value, provision: sides[1].dropFirst().first ?? "",
                                reason: sides[1].dropFirst(2).joined(separator: " "))
        // "-": no object (a question about a party alone, such as whether it is a country).
        session.services.setRule(question: question, partyID: sides[0].count == 3 ? sides[0][2] : nil,
                                 objectID: sides[0][1] == "-" ? "" : sides[0][1], answer: answer)
        return []
    }

    private func caller(_ rest: String) -> [String] {
        let parts = rest.split(separator: " ").map(String.init)
        guard let party = parts.first else { return ["ERROR: caller PARTY [ROLE...]"] }
        var roles: Set<Int32> = []
        for role in parts.dropFirst() {
            guard let number = Self.roles[role] ?? Int32(role) else {
                return ["ERROR: unknown role '\(role)' (\(Self.roles.keys.sorted().joined(separator: ", ")), or a number)"]
            }
            roles.insert(number)
        }
        session.setCaller(partyID: party, roles: roles)
        return []
    }

    static let roles: [String: Int32] = ["president": 1, "member": 2, "secretariat": 3, "administrator": 4]

    private func call(_ rest: String) -> [String] {
        let (method, body) = Self.split(rest)
        guard !method.isEmpty else { return ["ERROR: call METHOD {json} or call METHOD 0xHEX"] }
        let name = method.split(separator: "/").last.map(String.init) ?? method
        let types = session.types(of: name)
        let request: [UInt8]
        if body.hasPrefix("0x") || body.isEmpty && types == nil {
            guard let bytes = Self.bytes(body) else { return ["ERROR: \(body) is not valid hex"] }
            request = bytes
        } else {
            guard let types else { return ["UNIMPLEMENTED: the plugin has no method \(name)"] }
            do {
                request = try session.codec.binary(from: try JSONValue.parse(body.isEmpty ? "{}" : body), type: types.input)
            } catch {
                return ["ERROR: the request is not a valid \(types.input): \(error.description)"]
            }
        }
        switch session.call(method, request: request) {
        case .success(let response):
            if let types, let json = try? session.codec.json(from: response, type: types.output) { return ["OK \(json.text)"] }
            return ["OK \(Self.hex(response))"]
        case .failure(let error):
            return ["\(error.code.name): \(error.message)"]
        }
    }

    /// The first word of a line and the rest.
    static func split(_ text: String) -> (String, String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let space = trimmed.firstIndex(of: " ") else { return (trimmed, "") }
        return (String(trimmed[..<space]), trimmed[space...].trimmingCharacters(in: .whitespaces))
    }

    /// `0x`-prefixed hex as bytes, other text as its UTF-8; nil for bad hex.
    static func bytes(_ text: String) -> [UInt8]? {
        guard text.hasPrefix("0x") else { return Array(text.utf8) }
        let digits = Array(text.dropFirst(2))
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(digits[index...index + 1]), radix: 16) else { return nil }
            bytes.append(byte)
        }
        return bytes
    }

    static func hex(_ bytes: [UInt8]) -> String { "0x" + bytes.map { String(format: "%02x", $0) }.joined() }

    /// Printable UTF-8 as itself, anything else as hex.
    static func show(_ bytes: [UInt8]) -> String {
        guard let text = String(validating: bytes, as: UTF8.self),
              !text.isEmpty, !text.hasPrefix("0x"), text.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7f }) else {
            return hex(bytes)
        }
        return text
    }
}
