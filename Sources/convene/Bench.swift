import ArgumentParser
import ConveneClient
import ConveneProtos
import ConveneRPC
import ConveneTransport
import Foundation
import Histogram
import NIOCore
import SwiftProtobuf
import ConveneWire
import Synchronization

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load the server: unary calls in closed loop (--concurrency) or open loop (--rate), or streams.",
        discussion: """
        By default calls the benchmark service's UnaryEcho with --payload bytes; --method and --data \
        call any unary method the server reflects. Latency goes into an HDR histogram; in open loop \
        it is measured from each call's intended send time, so a stalled server cannot hide its queueing.

        --kind server-stream, client-stream and bidi drive the benchmark service's streaming methods \
        with --payload bytes per message and --stream-messages messages per call; each message is \
        one measured operation. Latency is then the gap between messages received (server-stream), \
        the time a send waits for flow control (client-stream), or one message's round trip (bidi).
        """)

    @OptionGroup var global: GlobalOptions

    @Option(help: "unary, server-stream, client-stream or bidi.")
    var kind: BenchKind = .unary

    @Option(name: .customLong("stream-messages"), help: "Messages per streaming call before a new call starts.")
    var streamMessages = 1000

    @Option(help: "Flow-control window per stream the client announces, in bytes (default 1 MiB).")
    var window: UInt32?

    @Option(help: "Connections to spread the calls over, in turn over the servers of --target (default: one per server).")
    var connections: Int?

    @Option(help: "Calls in flight at most, across all connections.")
    var concurrency = 64

    @Option(help: "Open loop: calls per second, sent on schedule whatever the server does.")
    var rate: Double?

    @Option(help: "Seconds to measure (after the warm-up); ignored with --requests.")
    var duration: Double = 5

    @Option(help: "Measure this many calls instead of a duration.")
    var requests: Int?

    @Option(help: "Seconds of warm-up, not measured.")
    var warmup: Double = 1

    @Option(help: "Payload bytes per echo.")
    var payload = 64

    @Option(help: "Any unary method (package.Service/Method) instead of the echo; with --data.")
    var method: String?

    @Option(help: "Any unary method by its path (/package.Service/Method), sent the echo's request bytes: for a method that answers what it gets, such as the template plugin's /convene.example.v1.Example/Echo.")
    var path: String?

    @Option(name: .shortAndLong, help: "JSON request for --method.")
    var data = "{}"

    @Flag(help: "Compress requests and responses (deflate).")
    var compress = false

    @Flag(help: "Print one JSON object.")
    var json = false

    @Option(help: "Write a self-contained HTML report with the latency distribution to this file.")
    var html: String?

    func validate() throws {
        let connections = self.connections ?? 1
        guard connections >= 1, connections <= 1000, concurrency >= connections, concurrency <= 100_000 else {
            throw ValidationError("--connections must be 1...1000 and --concurrency at least --connections (at most 100000)")
        }
        guard duration > 0, duration <= 3600, warmup >= 0, warmup <= 600 else {
            throw ValidationError("--duration must be in (0, 3600] and --warmup in [0, 600]")
        }
        if let rate, !(rate > 0 && rate <= 10_000_000) { throw ValidationError("--rate must be in (0, 10000000]") }
        if let requests, !(requests > 0 && requests <= 100_000_000) { throw ValidationError("--requests must be 1...100000000") }
        guard payload >= 0, payload <= 4_000_000 else { throw ValidationError("--payload must be 0...4000000") }
        if let window, !(65_536...Settings.maxWindowSize).contains(window) {
            throw ValidationError("--window must be 65536...\(Settings.maxWindowSize)")
        }
        guard streamMessages >= 1, streamMessages <= 1_000_000 else { throw ValidationError("--stream-messages must be 1...1000000") }
        if kind != .unary, rate != nil { throw ValidationError("--rate applies to --kind unary only") }
        if kind != .unary, method != nil || path != nil { throw ValidationError("--method and --path call unary methods; leave out --kind") }
        if let path, method != nil || !path.hasPrefix("/") || path.dropFirst().split(separator: "/").count != 2 {
            throw ValidationError("--path must be /package.Service/Method, and not go with --method")
        }
    }

    /// The client's connection settings. A larger window was measured to make 1 MiB server
    /// streaming slower here, not faster (Docs/BENCHMARKS.md), so the default stays.
    var connectionConfiguration: ConnectionConfiguration {
        var configuration = ConnectionConfiguration()
        if let window { configuration.settings.initialWindowSize = window }
        return configuration
    }

    func run() async throws {
        BenchMemory.keepFreedMemory()
        let target = try global.client()
        var options = global.callOptions
        options.timeout = .seconds(kind == .unary ? 30 : 600)
        if compress { options.requestCompression = .deflate; options.responseCompression = .deflate }
        let (path, body) = try await request(target, options: options)
        try await probe(target, path: path, body: body, options: options)
        let servers = await target.resolvedEndpoints()
        var pool: [ClientConnection] = []
        for index in 0..<min(connections ?? servers.count, concurrency) {
            let server = servers[index % servers.count]
            pool.append(try await ClientConnection.connect(host: server.host, port: server.port,
                                                           configuration: connectionConfiguration, tls: server.tls))
        }
        let state = BenchState(plannedRequests: requests)
        let start = ContinuousClock.now
        let measureFrom = start.advanced(by: .milliseconds(Int(warmup * 1000)))
        let plan = BenchPlan(
            state: state, start: start, measureFrom: measureFrom,
            end: requests == nil ? measureFrom.advanced(by: .milliseconds(Int(duration * 1000))) : nil,
            interval: rate.map { .nanoseconds(Int64(1e9 / $0)) }, options: options, compress: compress,
            path: path, body: body, payload: payload, streamMessages: streamMessages)
        let progress = isatty(STDOUT_FILENO) == 1 && !json ? Task { await showProgress(state) } : nil
        let kind = self.kind
        let workers = try await withThrowingTaskGroup(of: Histogram<UInt64>.self) { group in
            for worker in 0..<concurrency {
                let connection = pool[worker % pool.count]
                group.addTask { @Sendable in
                    var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
                    switch kind {
                    case .unary: try await plan.unary(on: connection, into: &histogram)
                    case .serverStream: await plan.serverStream(on: connection, into: &histogram)
                    case .clientStream: await plan.clientStream(on: connection, into: &histogram)
                    case .bidi: await plan.bidirectional(on: connection, into: &histogram)
                    }
                    return histogram
                }
            }
            var all: [Histogram<UInt64>] = []
            for try await histogram in group { all.append(histogram) }
            return all
        }
        progress?.cancel()
        let elapsed = ContinuousClock.now - measureFrom
        for connection in pool { await connection.close() }
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        for worker in workers { histogram.add(worker) }
        let seconds = requests == nil ? duration : Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let report = BenchReport(histogram: histogram, errors: state.errorsByCode, seconds: seconds, kind: kind,
                                 payloadBytes: method == nil ? payload : body.readableBytes)
        if let html { try report.html(title: "convene bench \(path)").write(toFile: html, atomically: true, encoding: .utf8) }
        print(json ? report.json : report.text)
    }

    /// The path and serialized request to send.
    func request(_ client: ConveneClient, options: CallOptions) async throws -> (String, ByteBuffer) {
        guard let method else {
            if kind != .unary { return (kind.path, ByteBuffer()) }
            let bytes = try Convene_Benchmark_V1_EchoRequest.with { $0.payload = Data(count: payload) }.serializedBytes() as [UInt8]
            return (path ?? BenchmarkMethods.unaryEcho.path, ByteBuffer(bytes: bytes))
        }
        do {
            let resolved = try await ResolvedMethod.resolve(method, client: client, options: options)
            guard !resolved.method.clientStreaming, !resolved.method.serverStreaming else {
                throw ValidationError("bench --method calls unary methods; \(method) streams")
            }
            let json = try JSONValue.parse(data)
            return (resolved.path, ByteBuffer(bytes: try resolved.codec.binary(from: json, type: resolved.method.inputType)))
        } catch let error as ValidationError {
            throw error
        } catch {
            throw fail(error)
        }
    }

    /// One call first (the unary request itself, or an echo before streams): a missing or
    /// refused credential stops the run at once, with a hint, instead of a run of nothing but
    /// errors.
    func probe(_ client: ConveneClient, path: String, body: ByteBuffer, options: CallOptions) async throws {
        let benchmark = kind != .unary || path.hasPrefix("/convene.benchmark.v1.Benchmark/")
        do {
            if kind == .unary {
                _ = try await client.unary(path: path, request: body, options: options)
            } else {
                _ = try await client.benchmark.echo([], options: options)
            }
        } catch let error as RPCError where error.code == .unauthenticated || error.code == .permissionDenied {
            let hint = benchmark
                ? "The benchmark service needs the administrator's credential or an operator's: pass --token-file FILE "
                    + "or set CONVENE_TOKEN (or start the server with --open-benchmark)."
                : "\(path) refused the credential: pass a party's with --token-file FILE or CONVENE_TOKEN."
            FileHandle.standardError.write(Data("\(error.code.name): \(error.message)\n\(hint)\n".utf8))
            throw ExitCode(2)
        } catch {
            // Other failures are the run's to count.
        }
    }

    /// A live line on a terminal: rate, errors and p99 so far.
    func showProgress(_ state: BenchState) async {
        var last = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            let (done, errors, p99) = state.snapshot()
            FileHandle.standardError.write(Data("\r\(done - last) calls/s  errors \(errors)  p99 so far \(p99) us   ".utf8))
            last = done
        }
        FileHandle.standardError.write(Data("\n".utf8))
    }
}
extension BenchKind: ExpressibleByArgument {}
