import ArgumentParser
import ConveneClient
import ConveneProtos
import ConveneRPC
import ConveneTransport
import Foundation
import NIOCore
import SwiftProtobuf
import Synchronization

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Closed-loop load on the benchmark service's unary echo (first cut: see issue 5 for the full tool).")

    @OptionGroup var global: GlobalOptions

    @Option(help: "Connections to spread the calls over.")
    var connections = 1

    @Option(help: "Calls in flight across all connections.")
    var concurrency = 64

    @Option(help: "Seconds to measure (after the warm-up).")
    var duration: Double = 5

    @Option(help: "Seconds of warm-up, not measured.")
    var warmup: Double = 1

    @Option(help: "Payload bytes per echo.")
    var payload = 64

    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
        guard connections >= 1, concurrency >= connections else {
            throw ValidationError("--concurrency must be at least --connections (>= 1)")
        }
        guard duration > 0, duration <= 3600, warmup >= 0, warmup <= 600 else {
            throw ValidationError("--duration must be in (0, 3600] and --warmup in [0, 600]")
        }
    }

    func run() async throws {
        let target = try ConveneClient(target: global.target)
        var pool: [ClientConnection] = []
        for _ in 0..<connections {
            pool.append(try await ClientConnection.connect(host: target.host, port: target.port))
        }
        let request = try Convene_Benchmark_V1_EchoRequest.with { $0.payload = Data(count: payload) }.serializedBytes() as [UInt8]
        let body = ByteBuffer(bytes: request)
        let path = BenchmarkMethods.unaryEcho.path
        let start = ContinuousClock.now
        let measureFrom = start.advanced(by: .milliseconds(Int(warmup * 1000)))
        let end = measureFrom.advanced(by: .milliseconds(Int(duration * 1000)))
        let results = try await withThrowingTaskGroup(of: ([UInt64], Int).self) { group in
            for worker in 0..<concurrency {
                let connection = pool[worker % pool.count]
                group.addTask {
                    var latencies: [UInt64] = []
                    var errors = 0
                    latencies.reserveCapacity(100_000)
                    while true {
                        let sent = ContinuousClock.now
                        if sent >= end { break }
                        do {
                            _ = try await connection.unary(path: path, request: body)
                        } catch {
                            if sent >= measureFrom { errors += 1 }
                            continue
                        }
                        if sent >= measureFrom {
                            let (s, a) = (ContinuousClock.now - sent).components
                            latencies.append(UInt64(s) * 1_000_000 + UInt64(a / 1_000_000_000_000))
                        }
                    }
                    return (latencies, errors)
                }
            }
            var all: [UInt64] = []
            var errors = 0
            for try await (latencies, e) in group {
                all.append(contentsOf: latencies)
                errors += e
            }
            return (all.sorted(), errors)
        }
        for connection in pool { await connection.close() }
        let (latencies, errors) = results
        func percentile(_ p: Double) -> UInt64 {
            latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]
        }
        let rps = Double(latencies.count) / duration
        if json {
            print("{\"requests\":\(latencies.count),\"errors\":\(errors),\"duration_s\":\(duration),\"rps\":\(Int(rps)),"
                + "\"p50_us\":\(percentile(0.5)),\"p90_us\":\(percentile(0.9)),\"p99_us\":\(percentile(0.99)),"
                + "\"p999_us\":\(percentile(0.999)),\"max_us\":\(latencies.last ?? 0)}")
        } else {
            print("requests \(latencies.count)  errors \(errors)  rps \(Int(rps))")
            print("latency us: p50 \(percentile(0.5))  p90 \(percentile(0.9))  p99 \(percentile(0.99))  p99.9 \(percentile(0.999))  max \(latencies.last ?? 0)")
        }
    }
}
