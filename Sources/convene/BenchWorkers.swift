import ConveneProtobuf
import ConveneProtos
import ConveneRPC
import ConveneTransport
import Foundation
import Histogram
import NIOCore
import SwiftProtobuf

/// What `convene bench` drives.
enum BenchKind: String, CaseIterable, Sendable {
    case unary
    case serverStream = "server-stream"
    case clientStream = "client-stream"
    case bidi

    var path: String {
        switch self {
        case .unary: BenchmarkMethods.unaryEcho.path
        case .serverStream: BenchmarkMethods.streamFromServer.path
        case .clientStream: BenchmarkMethods.streamFromClient.path
        case .bidi: BenchmarkMethods.streamBoth.path
        }
    }
}

/// When to stop, what to send, and where results go: shared by every worker of one run.
struct BenchPlan: Sendable {
    let state: BenchState
    let start: ContinuousClock.Instant
    let measureFrom: ContinuousClock.Instant
    /// nil with --requests: stop after that many measured operations instead.
    let end: ContinuousClock.Instant?
    /// Open loop (unary only): one call per interval, on schedule.
    let interval: Duration?
    let options: CallOptions
    let compress: Bool
    let path: String
    let body: ByteBuffer
    let payload: Int
    let streamMessages: Int

    enum Phase { case warmup, measured }

    /// Whether an operation starting at `instant` runs, and whether it counts; nil: stop.
    func phase(at instant: ContinuousClock.Instant) -> Phase? {
        if let end, instant >= end { return nil }
        guard instant >= measureFrom else { return .warmup }
        return state.claimMeasured() ? .measured : nil
    }

    /// Past the end time, or every planned operation started.
    func isOver(at instant: ContinuousClock.Instant) -> Bool {
        if let end { return instant >= end }
        return state.isFinished
    }

    func record(_ phase: Phase, since start: ContinuousClock.Instant, into histogram: inout Histogram<UInt64>) {
        guard phase == .measured else { return }
        let (s, a) = (ContinuousClock.now - start).components
        let micros = min(UInt64(max(0, s * 1_000_000 + a / 1_000_000_000_000)), 60_000_000)
        _ = histogram.record(micros)
        state.completed(micros)
    }

    func fail(_ phase: Phase, _ error: any Error) {
        guard phase == .measured else { return }
        state.failed((error as? RPCError)?.code ?? .unavailable)
    }

    // MARK: - Unary

    func unary(on connection: ClientConnection, into histogram: inout Histogram<UInt64>) async throws {
        while true {
            // Open loop: the next slot of the schedule; closed loop: now.
            let slot = state.nextSlot()
            let intended = interval.map { start.advanced(by: $0 * Int(slot)) } ?? ContinuousClock.now
            if let end, intended >= end { return }
            if interval != nil, intended > ContinuousClock.now { try await Task.sleep(until: intended) }
            guard let phase = phase(at: intended) else { return }
            do {
                _ = try await connection.unary(path: path, request: body, options: options)
                record(phase, since: intended, into: &histogram)
            } catch {
                fail(phase, error)
            }
        }
    }

    // MARK: - Streams: each message is one operation

    var streamPayload: ByteBuffer {
        Convene_Benchmark_V1_StreamRequest.with { $0.payload = Data(count: payload) }.serializedBuffer()
    }

    /// StreamFromServer calls of --stream-messages messages; latency is the gap before each message.
    func serverStream(on connection: ClientConnection, into histogram: inout Histogram<UInt64>) async {
        let request = Convene_Benchmark_V1_StreamRequest.with {
            $0.count = UInt32(streamMessages)
            $0.size = UInt32(payload)
        }.serializedBuffer()
        while true {
            if isOver(at: .now) { return }
            var last = ContinuousClock.now
            let call = await connection.makeCall(path: path, options: options, request: request)
            var phase = Phase.warmup
            do {
                for try await _ in call.responses {
                    guard let now = self.phase(at: ContinuousClock.now) else {
                        call.cancel()
                        return
                    }
                    phase = now
                    record(phase, since: last, into: &histogram)
                    last = ContinuousClock.now
                }
            } catch {
                // A call that failed before its first message still counts, once.
                guard let counted = phase == .measured ? phase : self.phase(at: ContinuousClock.now) else { return }
                fail(counted, error)
            }
        }
    }

    /// StreamFromClient calls; latency is how long each send waits (flow control). The server's
    /// count of what arrived is checked against what was sent.
    func clientStream(on connection: ClientConnection, into histogram: inout Histogram<UInt64>) async {
        let message = streamPayload
        while true {
            if isOver(at: .now) { return }
            let call = await connection.makeCall(path: path, options: options)
            var sent = 0
            var phase = Phase.warmup
            do {
                while sent < streamMessages {
                    let started = ContinuousClock.now
                    guard let next = self.phase(at: started) else {
                        call.cancel()
                        return
                    }
                    phase = next
                    try await call.send(message, compress: compress)
                    record(phase, since: started, into: &histogram)
                    sent += 1
                }
                try await call.finish()
                var summary = Convene_Benchmark_V1_StreamSummary()
                for try await response in call.responses { summary = try .init(buffer: response) }
                guard summary.messages == UInt64(sent), summary.bytes == UInt64(sent * payload) else {
                    throw RPCError(.dataLoss, "sent \(sent) messages, the server counted \(summary.messages)")
                }
            } catch {
                fail(phase, error)
            }
        }
    }

    /// StreamBoth calls; latency is each message's round trip.
    func bidirectional(on connection: ClientConnection, into histogram: inout Histogram<UInt64>) async {
        let message = streamPayload
        while true {
            if isOver(at: .now) { return }
            let call = await connection.makeCall(path: path, options: options)
            var responses = call.responses.makeAsyncIterator()
            var phase = Phase.warmup
            do {
                for _ in 0..<streamMessages {
                    let started = ContinuousClock.now
                    guard let next = self.phase(at: started) else {
                        call.cancel()
                        return
                    }
                    phase = next
                    try await call.send(message, compress: compress)
                    guard try await responses.next() != nil else {
                        throw RPCError(.dataLoss, "the server ended the stream before echoing every message")
                    }
                    record(phase, since: started, into: &histogram)
                }
                try await call.finish()
                while try await responses.next() != nil {}
            } catch {
                fail(phase, error)
            }
        }
    }
}
