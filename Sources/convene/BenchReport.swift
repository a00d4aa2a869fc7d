import Foundation
import Histogram

struct BenchReport {
    let histogram: Histogram<UInt64>
    let errors: [String: Int]
    let seconds: Double
    let kind: BenchKind
    /// Payload bytes per operation (per call, or per message of a stream).
    let payloadBytes: Int

    var requests: UInt64 { histogram.totalCount }
    var rps: Double { seconds > 0 ? Double(requests) / seconds : 0 }
    var mebibytesPerSecond: Double { rps * Double(payloadBytes) / 1_048_576 }
    var unit: String { kind == .unary ? "calls" : "messages" }
    func p(_ percentile: Double) -> UInt64 { requests == 0 ? 0 : histogram.valueAtPercentile(percentile) }

    var json: String {
        let object: [String: Any] = [
            "requests": requests, "errors": errors.values.reduce(0, +), "errors_by_code": errors,
            "duration_s": (seconds * 1000).rounded() / 1000, "rps": Int(rps.rounded()),
            "kind": kind.rawValue, "payload_bytes": payloadBytes, "mib_per_s": (mebibytesPerSecond * 10).rounded() / 10,
            "p50_us": p(50), "p90_us": p(90), "p99_us": p(99), "p999_us": p(99.9), "max_us": requests == 0 ? 0 : histogram.max,
        ]
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    var text: String {
        var lines = ["\(unit) \(requests)  errors \(errors.values.reduce(0, +))  \(unit)/s \(Int(rps.rounded()))  "
                     + String(format: "payload %.1f MiB/s", mebibytesPerSecond),
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
