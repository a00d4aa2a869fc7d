import ConveneRPC
import Foundation

/// The status page: plain HTML, no script, refreshing itself every few seconds. What it shows
/// comes from the sampler (rates, errors, latency, the plot) and the server (version, uptime,
/// listeners, plugins).
enum StatusPage {
    static let refreshSeconds = 5

    static func render(status: ServerStatus, sampler: StatusSampler, now: Date = Date()) -> String {
        let connections = sampler.metrics.openConnections()
        let rates = sampler.latestRates().filter { $0.total > 0 }
            .sorted { ($0.callsPerSecond, $0.total) > ($1.callsPerSecond, $1.total) }
        var html = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8">
        <meta http-equiv="refresh" content="\(refreshSeconds)">
        <title>Convene \(escape(status.version))</title>
        <style>
        body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #1b1b1b; }
        h1 { font-size: 20px; margin: 0 0 .2em } h2 { font-size: 16px; margin: 1.5em 0 .4em }
        table { border-collapse: collapse } td, th { padding: 3px 10px; border-bottom: 1px solid #ddd; text-align: left }
        td.n, th.n { text-align: right; font-variant-numeric: tabular-nums }
        .degraded, .failed, .bad { color: #b00020; font-weight: 600 } .serving { color: #106b21 }
        .muted { color: #666 }
        </style></head><body>
        <h1>Convene \(escape(status.version))</h1>
        <p class="muted">up \(duration(now.timeIntervalSince(status.started))) · refreshes every \(refreshSeconds) s</p>
        <h2>Listeners</h2><table><tr><th>listener</th><th>address</th><th class="n">open connections</th></tr>
        """
        for listener in status.listeners {
            let transport = TransportKind(rawValue: listener.name) ?? .inProcess
            html += "<tr><td>\(escape(listener.name))</td><td>\(escape(listener.address))</td>"
                + "<td class=\"n\">\(connections[transport] ?? 0)</td></tr>\n"
        }
        html += "</table>\n<h2>Latency and load</h2>\n" + plot(sampler.history()) + "\n"
        html += """
        <h2>Busiest methods</h2><table><tr><th>method</th><th class="n">calls/s</th><th class="n">errors</th>\
        <th class="n">p50</th><th class="n">p99</th><th class="n">calls in all</th></tr>

        """
        for rate in rates.prefix(15) {
            let errors = rate.errorRate > 0 ? "<span class=\"bad\">\(percent(rate.errorRate))</span>" : "0 %"
            html += "<tr><td>\(escape(rate.descriptor.description))</td><td class=\"n\">\(String(format: "%.1f", rate.callsPerSecond))</td>"
                + "<td class=\"n\">\(errors)</td><td class=\"n\">\(latency(rate.p50))</td><td class=\"n\">\(latency(rate.p99))</td>"
                + "<td class=\"n\">\(rate.total)</td></tr>\n"
        }
        if rates.isEmpty { html += "<tr><td colspan=\"6\" class=\"muted\">no calls yet</td></tr>\n" }
        html += "</table>\n<h2>Plugins</h2><table><tr><th>plugin</th><th>version</th><th>state</th><th>detail</th></tr>\n"
        for plugin in status.plugins {
            html += "<tr><td>\(escape(plugin.name))</td><td>\(escape(plugin.version))</td>"
                + "<td class=\"\(escape(plugin.state))\">\(escape(plugin.state))</td><td>\(escape(plugin.detail))</td></tr>\n"
        }
        if status.plugins.isEmpty { html += "<tr><td colspan=\"4\" class=\"muted\">none loaded</td></tr>\n" }
        html += "</table>\n<p class=\"muted\">Prometheus metrics: <a href=\"/metrics\">/metrics</a></p>\n</body></html>\n"
        return html
    }

    /// An SVG plot of p50 and p99 latency (ms, left) over the sampled intervals.
    static func plot(_ points: [StatusSampler.Point]) -> String {
        let (width, height) = (640.0, 160.0)
        guard points.count >= 2 else {
            return "<p class=\"muted\">the plot starts after three samples</p>"
        }
        let values = points.flatMap { [$0.p50, $0.p99].compactMap { $0 } }.map { Double($0) / 1e6 }
        let top = max(values.max() ?? 1, 0.001)
        func line(_ pick: (StatusSampler.Point) -> Int64?) -> String {
            points.enumerated().compactMap { index, point in
                pick(point).map { value in
                    let x = width * Double(index) / Double(points.count - 1)
                    let y = height - height * (Double(value) / 1e6) / top
                    return String(format: "%.1f,%.1f", x, y)
                }
            }.joined(separator: " ")
        }
        let rate = points.last?.callsPerSecond ?? 0
        return """
        <svg role="img" aria-label="latency plot" width="\(Int(width) + 90)" height="\(Int(height) + 30)" \
        xmlns="http://www.w3.org/2000/svg">
        <g transform="translate(60,10)">
        <rect width="\(Int(width))" height="\(Int(height))" fill="#fafafa" stroke="#ccc"/>
        <polyline fill="none" stroke="#1f6feb" stroke-width="2" points="\(line { $0.p50 })"/>
        <polyline fill="none" stroke="#b00020" stroke-width="2" points="\(line { $0.p99 })"/>
        <text x="-6" y="10" text-anchor="end" font-size="11">\(String(format: "%.1f", top)) ms</text>
        <text x="-6" y="\(Int(height))" text-anchor="end" font-size="11">0</text>
        <text x="0" y="\(Int(height) + 16)" font-size="11" fill="#1f6feb">p50</text>
        <text x="40" y="\(Int(height) + 16)" font-size="11" fill="#b00020">p99</text>
        <text x="\(Int(width))" y="\(Int(height) + 16)" text-anchor="end" font-size="11">\
        \(String(format: "%.1f", rate)) calls/s now</text>
        </g></svg>
        """
    }

    static func latency(_ nanoseconds: Int64?) -> String {
        guard let nanoseconds else { return "–" }
        if nanoseconds == .max { return "> 10 s" }
        if nanoseconds < 1_000_000 { return "≤ \(nanoseconds / 1000) µs" }
        if nanoseconds < 1_000_000_000 { return "≤ \(nanoseconds / 1_000_000) ms" }
        return "≤ \(nanoseconds / 1_000_000_000) s"
    }

    static func percent(_ fraction: Double) -> String { String(format: "%.1f %%", fraction * 100) }

    static func duration(_ seconds: TimeInterval) -> String {
        let s = Int(max(0, seconds))
        if s < 3600 { return "\(s / 60) min \(s % 60) s" }
        if s < 86_400 { return "\(s / 3600) h \(s % 3600 / 60) min" }
        return "\(s / 86_400) d \(s % 86_400 / 3600) h"
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
