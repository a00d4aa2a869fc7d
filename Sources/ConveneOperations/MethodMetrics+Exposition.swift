import ConveneRPC
import ConveneWire
import Prometheus

/// The call metrics of every method in the Prometheus text format (version 0.0.4), rendered
/// from the methods' atomic counters at scrape time; the rest of the server's metrics come from
/// swift-prometheus' registry, ahead of these.
enum CallMetricsExposition {
    /// `convene_calls_total` (a series for each method, transport and code that has seen a call)
    /// and `convene_call_duration_seconds` (a histogram for each method, called or not).
    static func render(_ methods: [MethodMetrics], into text: inout String) {
        let methods = methods.sorted { $0.descriptor.path < $1.descriptor.path }
        text += "# TYPE \(ServerMetrics.Names.calls) counter\n"
        for metrics in methods {
            for transport in MethodMetrics.Layout.transports {
                for raw in 0..<MethodMetrics.Layout.codes {
                    let code = StatusCode(rawValue: UInt8(raw))
                    let count = metrics.calls(transport, code)
                    guard count > 0 else { continue }
                    let labels = methodLabels(metrics) + [("transport", transport.rawValue), ("code", code.name)]
                    line(&text, ServerMetrics.Names.calls, labels, "\(count)")
                }
            }
        }
        let name = ServerMetrics.Names.callDuration
        text += "# TYPE \(name) histogram\n"
        for metrics in methods {
            let (buckets, sum) = metrics.latency
            let labels = methodLabels(metrics)
            var cumulative = 0
            for (index, bound) in MethodTally.bounds.dropLast().enumerated() {
                cumulative += buckets[index]
                line(&text, name + "_bucket", labels + [("le", Duration.nanoseconds(bound).bucketRepresentation)], "\(cumulative)")
            }
            let count = buckets.reduce(0, +)
            line(&text, name + "_bucket", labels + [("le", "+Inf")], "\(count)")
            line(&text, name + "_sum", labels, Duration.nanoseconds(Int64(sum)).bucketRepresentation)
            line(&text, name + "_count", labels, "\(count)")
        }
    }

    private static func methodLabels(_ metrics: MethodMetrics) -> [(String, String)] {
        [("service", metrics.descriptor.service), ("method", metrics.descriptor.method)]
    }

    private static func line(_ text: inout String, _ name: String, _ labels: [(String, String)], _ value: String) {
        text += name
        text += "{"
        text += labels.map { "\($0.0)=\"\(escaped($0.1))\"" }.joined(separator: ",")
        text += "} "
        text += value
        text += "\n"
    }

    /// A label value as the text format wants it: backslash, double quote and newline escaped.
    static func escaped(_ value: String) -> String {
        guard value.contains(where: { $0 == "\\" || $0 == "\"" || $0 == "\n" }) else { return value }
        var result = ""
        for character in value {
            switch character {
            case "\\": result += "\\\\"
            case "\"": result += "\\\""
            case "\n": result += "\\n"
            default: result.append(character)
            }
        }
        return result
    }
}
