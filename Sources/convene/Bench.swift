import ArgumentParser
import ConveneClient
import ConveneProtos
import ConveneRPC
import ConveneTransport
import Foundation
import Histogram
import NIOCore
import SwiftProtobuf
import Synchronization

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load the server with unary calls: closed loop (--concurrency) or open loop (--rate).",
        discussion: """
        By default calls the benchmark service's UnaryEcho with --payload bytes; --method and --data \
        call any unary method the server reflects. Latency goes into an HDR histogram; in open loop \
        it is measured from each call's intended send time, so a stalled server cannot hide its queueing.
        """)

    @OptionGroup var global: GlobalOptions

    @Option(help: "Connections to spread the calls over.")
    var connections = 1

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

    @Option(name: .shortAndLong, help: "JSON request for --method.")
    var data = "{}"

    @Flag(help: "Compress requests and responses (deflate).")
    var compress = false

    @Flag(help: "Print one JSON object.")
    var json = false

    @Option(help: "Write a self-contained HTML report with the latency distribution to this file.")
    var html: String?

    func validate() throws {
        guard connections >= 1, connections <= 1000, concurrency >= connections, concurrency <= 100_000 else {
            throw ValidationError("--connections must be 1...1000 and --concurrency at least --connections (at most 100000)")
        }
        guard duration > 0, duration <= 3600, warmup >= 0, warmup <= 600 else {
            throw ValidationError("--duration must be in (0, 3600] and --warmup in [0, 600]")
        }
        if let rate, !(rate > 0 && rate <= 10_000_000) { throw ValidationError("--rate must be in (0, 10000000]") }
        if let requests, !(requests > 0 && requests <= 100_000_000) { throw ValidationError("--requests must be 1...100000000") }
        guard payload >= 0, payload <= 4_000_000 else { throw ValidationError("--payload must be 0...4000000") }
    }

    func run() async throws {
        let target = try global.client()
        var options = global.callOptions
        options.timeout = .seconds(30)
        if compress { options.requestCompression = .deflate; options.responseCompression = .deflate }
        let (path, body) = try await request(target, options: options)
        let callOptions = options
        var pool: [ClientConnection] = []
        for _ in 0..<connections {
            pool.append(try await ClientConnection.connect(host: target.host, port: target.port))
        }
        let state = BenchState(plannedRequests: requests)
        let start = ContinuousClock.now
        let measureFrom = start.advanced(by: .milliseconds(Int(warmup * 1000)))
        let end = requests == nil ? measureFrom.advanced(by: .milliseconds(Int(duration * 1000))) : nil
        let interval: Duration? = rate.map { .nanoseconds(Int64(1e9 / $0)) }
        let progress = isatty(STDOUT_FILENO) == 1 && !json ? Task { await showProgress(state) } : nil
        let workers = try await withThrowingTaskGroup(of: Histogram<UInt64>.self) { group in
            for worker in 0..<concurrency {
                let connection = pool[worker % pool.count]
                group.addTask { @Sendable in
                    var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
                    while true {
                        // Open loop: the next slot of the schedule; closed loop: now.
                        let slot = state.nextSlot()
                        let intended = interval.map { start.advanced(by: $0 * Int(slot)) } ?? ContinuousClock.now
                        if let end, intended >= end { break }
                        if interval != nil, intended > ContinuousClock.now { try await Task.sleep(until: intended) }
                        let measured = intended >= measureFrom
                        if measured, !state.claimMeasured() { break }
                        let code: StatusCode
                        do {
                            _ = try await connection.unary(path: path, request: body, options: callOptions)
                            code = .ok
                        } catch let error as RPCError {
                            code = error.code
                        } catch {
                            code = .unavailable
                        }
                        guard measured else { continue }
                        let (s, a) = (ContinuousClock.now - intended).components
                        let micros = UInt64(max(0, s * 1_000_000 + a / 1_000_000_000_000))
                        if code == .ok {
                            _ = histogram.record(min(micros, 60_000_000))
                            state.completed(micros)
                        } else {
                            state.failed(code)
                        }
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
        let report = BenchReport(histogram: histogram, errors: state.errorsByCode, seconds: seconds)
        if let html { try report.html(title: "convene bench \(path)").write(toFile: html, atomically: true, encoding: .utf8) }
        print(json ? report.json : report.text)
    }

    /// The path and serialized request to send.
    func request(_ client: ConveneClient, options: CallOptions) async throws -> (String, ByteBuffer) {
        guard let method else {
            let bytes = try Convene_Benchmark_V1_EchoRequest.with { $0.payload = Data(count: payload) }.serializedBytes() as [UInt8]
            return (BenchmarkMethods.unaryEcho.path, ByteBuffer(bytes: bytes))
        }
        do {
            let resolved = try await ResolvedMethod.resolve(method, client: client, options: options)
            guard !resolved.method.clientStreaming, !resolved.method.serverStreaming else {
                throw ValidationError("bench --method calls unary methods; \(method) streams")
            }
            let json = try JSONSerialization.jsonObject(with: Data(data.utf8), options: [.fragmentsAllowed])
            return (resolved.path, ByteBuffer(bytes: try resolved.codec.binary(from: json, type: resolved.method.inputType)))
        } catch let error as ValidationError {
            throw error
        } catch {
            throw fail(error)
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

/// Counters shared by the workers.
final class BenchState: Sendable {
    private struct State {
        var slot: Int64 = 0
        var measured = 0
        var done = 0
        var errors: [String: Int] = [:]
        var recent = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .two)
    }

    private let state = Mutex(State())
    let plannedRequests: Int?

    init(plannedRequests: Int?) { self.plannedRequests = plannedRequests }

    func nextSlot() -> Int64 { state.withLock { s in defer { s.slot += 1 }; return s.slot } }

    /// False once --requests measured calls have been started.
    func claimMeasured() -> Bool {
        state.withLock { s in
            if let planned = plannedRequests, s.measured >= planned { return false }
            s.measured += 1
            return true
        }
    }

    func completed(_ micros: UInt64) { state.withLock { s in s.done += 1; _ = s.recent.record(min(micros, 60_000_000)) } }
    func failed(_ code: StatusCode) { state.withLock { $0.errors[code.name, default: 0] += 1 } }
    var errorsByCode: [String: Int] { state.withLock { $0.errors } }

    func snapshot() -> (Int, Int, UInt64) {
        state.withLock { s in (s.done, s.errors.values.reduce(0, +), s.recent.valueAtPercentile(99)) }
    }
}

struct BenchReport {
    let histogram: Histogram<UInt64>
    let errors: [String: Int]
    let seconds: Double

    var requests: UInt64 { histogram.totalCount }
    var rps: Double { seconds > 0 ? Double(requests) / seconds : 0 }
    func p(_ percentile: Double) -> UInt64 { requests == 0 ? 0 : histogram.valueAtPercentile(percentile) }

    var json: String {
        let object: [String: Any] = [
            "requests": requests, "errors": errors.values.reduce(0, +), "errors_by_code": errors,
            "duration_s": (seconds * 1000).rounded() / 1000, "rps": Int(rps.rounded()),
            "p50_us": p(50), "p90_us": p(90), "p99_us": p(99), "p999_us": p(99.9), "max_us": requests == 0 ? 0 : histogram.max,
        ]
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    var text: String {
        var lines = ["requests \(requests)  errors \(errors.values.reduce(0, +))  rps \(Int(rps.rounded()))",
                     "latency us: p50 \(p(50))  p90 \(p(90))  p99 \(p(99))  p99.9 \(p(99.9))  max \(requests == 0 ? 0 : histogram.max)"]
        for (code, count) in errors.sorted(by: { $0.key < $1.key }) { lines.append("  \(code): \(count)") }
        return lines.joined(separator: "\n")
    }

    /// A self-contained page: the summary and the latency by percentile as an SVG line.
    func html(title: String) -> String {
        let percentiles: [Double] = [0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 100]
        let values = percentiles.map { p($0) }
        let maxValue = Double(max(values.max() ?? 1, 1))
        let width = 760.0, height = 320.0
        let points = values.enumerated().map { index, value in
            let x = 40 + Double(index) / Double(values.count - 1) * (width - 60)
            let y = height - 30 - Double(value) / maxValue * (height - 60)
            return String(format: "%.1f,%.1f", x, y)
        }.joined(separator: " ")
        let labels = percentiles.enumerated().map { index, percentile in
            let x = 40 + Double(index) / Double(percentiles.count - 1) * (width - 60)
            return "<text x=\"\(String(format: "%.1f", x))\" y=\"\(Int(height) - 10)\" font-size=\"10\" text-anchor=\"middle\">p\(percentile == 100 ? "max" : String(format: "%g", percentile))</text>"
        }.joined()
        let rows = zip(percentiles, values).map { "<tr><td>p\(String(format: "%g", $0))</td><td>\($1)</td></tr>" }.joined()
        return """
        <!doctype html><html><head><meta charset="utf-8"><title>\(title)</title>
        <style>body{font-family:sans-serif;margin:2em}td{padding:0 1em}</style></head><body>
        <h1>\(title)</h1><p>\(text.replacingOccurrences(of: "\n", with: "<br>"))</p>
        <svg width="\(Int(width))" height="\(Int(height))" xmlns="http://www.w3.org/2000/svg">
        <line x1="40" y1="\(Int(height) - 30)" x2="\(Int(width) - 20)" y2="\(Int(height) - 30)" stroke="#999"/>
        <line x1="40" y1="20" x2="40" y2="\(Int(height) - 30)" stroke="#999"/>
        <text x="44" y="16" font-size="11">\(Int(maxValue)) us</text>
        <polyline fill="none" stroke="#1f6feb" stroke-width="2" points="\(points)"/>\(labels)</svg>
        <table><tr><th>percentile</th><th>latency (us)</th></tr>\(rows)</table></body></html>
        """
    }
}
