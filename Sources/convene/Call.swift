import ArgumentParser
import ConveneClient
import ConveneProtos
import ConveneRPC
import ConveneTransport
import Foundation
import NIOCore
import SwiftProtobuf

/// The method a reflection lookup found, with the descriptors to code its messages.
struct ResolvedMethod {
    let service: String
    let method: Convene_Reflection_V1_MethodInfo
    let codec: DynamicCodec

    var path: String { "/\(service)/\(method.name)" }

    static func resolve(_ name: String, client: ConveneClient, options: CallOptions) async throws -> ResolvedMethod {
        let parts = name.split(separator: "/").map(String.init)
        guard parts.count == 2 else { throw ValidationError("method must be package.Service/Method, got '\(name)'") }
        let services = try await client.reflection.listServices(options: options).services
        guard let service = services.first(where: { $0.name == parts[0] }) else {
            throw RPCError(.unimplemented, "unknown service \(parts[0])")
        }
        guard let method = service.methods.first(where: { $0.name == parts[1] }) else {
            throw RPCError(.unimplemented, "unknown method \(parts[1]) of service \(parts[0])")
        }
        return ResolvedMethod(service: service.name, method: method,
                              codec: DynamicCodec(pool: try await pool(for: service.name, client: client, options: options)))
    }

    static func pool(for symbol: String, client: ConveneClient, options: CallOptions) async throws -> DescriptorPool {
        let files = try await client.reflection.fileDescriptors(containing: symbol, options: options).fileDescriptorProto
        return DescriptorPool(files: try files.map { try Google_Protobuf_FileDescriptorProto(serializedBytes: $0) })
    }
}

struct Call: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Call any method the server reflects: JSON in, JSON out (protobuf's JSON mapping).",
        discussion: """
        Unary and server-streaming methods take one JSON object; client- and bidirectional-streaming \
        methods take a JSON array or one object per line. Responses print one JSON object per line.
        """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "package.Service/Method")
    var method: String

    @Option(name: .shortAndLong, help: "The request: JSON, @FILE, or - for standard input.")
    var data: String = "{}"

    @Option(name: .customShort("H"), help: "Metadata, key:value (repeatable).")
    var header: [String] = []

    @Option(help: "Seconds before the call's deadline (overrides --timeout).")
    var deadline: Double?

    @Flag(help: "Compress requests and ask for compressed responses (deflate).")
    var compress = false

    func run() async throws {
        let client = try global.client()
        defer { Task { await client.close() } }
        do {
            var options = global.callOptions
            if let deadline { options.timeout = .milliseconds(Int(deadline * 1000)) }
            for entry in header {
                guard let colon = entry.firstIndex(of: ":") else { throw ValidationError("-H takes key:value, got '\(entry)'") }
                let key = entry[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
                let value = entry[entry.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                if key.hasSuffix("-bin") {
                    guard let bytes = Data(base64Encoded: value) else { throw ValidationError("-H \(key): a -bin value is base64") }
                    options.metadata.add(key, binary: Array(bytes))
                } else {
                    options.metadata.add(key, value)
                }
            }
            if compress {
                options.requestCompression = .deflate
                options.responseCompression = .deflate
            }
            let resolved = try await ResolvedMethod.resolve(method, client: client, options: options)
            let requests = try readRequests(streaming: resolved.method.clientStreaming).map {
                try resolved.codec.binary(from: $0, type: resolved.method.inputType)
            }
            func show(_ bytes: ByteBuffer) throws {
                print(try resolved.codec.json(from: Array(buffer: bytes), type: resolved.method.outputType).text)
            }
            if !resolved.method.clientStreaming && !resolved.method.serverStreaming {
                try show(try await client.unary(path: resolved.path, request: ByteBuffer(bytes: requests[0]), options: options).message)
                return
            }
            let call = try await client.makeCall(path: resolved.path, options: options,
                                                 request: resolved.method.clientStreaming ? nil : ByteBuffer(bytes: requests[0]))
            if resolved.method.clientStreaming {
                for request in requests { try await call.send(ByteBuffer(bytes: request)) }
                try await call.finish()
            }
            for try await response in call.responses { try show(response) }
        } catch let error as ValidationError {
            throw error
        } catch let error as DynamicCodecError {
            throw fail(RPCError(.invalidArgument, error.description))
        } catch {
            throw fail(error)
        }
    }

    /// The JSON requests from --data.
    func readRequests(streaming: Bool) throws -> [JSONValue] {
        let text: String
        if data == "-" {
            text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        } else if data.hasPrefix("@") {
            guard let file = try? String(contentsOfFile: String(data.dropFirst()), encoding: .utf8) else {
                throw ValidationError("--data: cannot read \(data.dropFirst())")
            }
            text = file
        } else {
            text = data
        }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        do {
            guard streaming else { return [try JSONValue.parse(trimmed.isEmpty ? "{}" : trimmed)] }
            if trimmed.hasPrefix("["), case .array(let items) = try JSONValue.parse(trimmed) { return items }
            return try JSONValue.parseSequence(trimmed)
        } catch {
            throw ValidationError("--data is not valid JSON (\(error.description)): \(trimmed.prefix(80))")
        }
    }
}

struct Describe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a service's (or one method's) signatures and the definitions of their messages.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "package.Service or package.Service/Method")
    var symbol: String

    func run() async throws {
        let client = try global.client()
        defer { Task { await client.close() } }
        do {
            let parts = symbol.split(separator: "/").map(String.init)
            let pool = try await ResolvedMethod.pool(for: parts[0], client: client, options: global.callOptions)
            guard let service = pool.services[parts[0]] else { throw RPCError(.notFound, "unknown service \(parts[0])") }
            let methods = parts.count > 1 ? service.method.filter { $0.name == parts[1] } : service.method
            guard !methods.isEmpty else { throw RPCError(.notFound, "unknown method \(parts[1]) of \(parts[0])") }
            print("service \(parts[0]) {")
            for m in methods {
                let input = (m.clientStreaming ? "stream " : "") + DescriptorPool.key(m.inputType)
                let output = (m.serverStreaming ? "stream " : "") + DescriptorPool.key(m.outputType)
                print("  rpc \(m.name)(\(input)) returns (\(output));")
            }
            print("}")
            var seen = Set<String>()
            var queue = methods.flatMap { [DescriptorPool.key($0.inputType), DescriptorPool.key($0.outputType)] }
            // Every message and enum the methods reach, each once, in the order first reached.
            while let name = queue.first {
                queue.removeFirst()
                guard seen.insert(name).inserted else { continue }
                if let message = pool.messages[name] {
                    print("\nmessage \(name) {")
                    for field in message.field {
                        let label = field.label == .repeated ? "repeated " : ""
                        let type = field.hasTypeName ? DescriptorPool.key(field.typeName) : "\(field.type)".lowercased()
                        print("  \(label)\(type) \(field.name) = \(field.number);")
                        if field.hasTypeName { queue.append(type) }
                    }
                    print("}")
                } else if let enumeration = pool.enums[name] {
                    print("\nenum \(name) {")
                    for value in enumeration.value { print("  \(value.name) = \(value.number);") }
                    print("}")
                }
            }
        } catch {
            throw fail(error)
        }
    }
}
