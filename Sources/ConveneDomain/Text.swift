extension String {
    /// Empty, or nothing a reader sees: whitespace (spaces, tabs, line breaks, in any script)
    /// and characters that show nothing of themselves (format characters such as U+2060 WORD
    /// JOINER and U+FEFF, fillers such as U+3164): a reason of U+2060 alone gives no reason.
    public var isBlank: Bool {
        unicodeScalars.allSatisfy { scalar in
            scalar.properties.isWhitespace || scalar.properties.isDefaultIgnorableCodePoint
                || scalar.properties.generalCategory == .format
        }
    }

    /// Without whitespace at either end.
    var trimmingWhitespace: String {
        guard let first = firstIndex(where: { !$0.isWhitespace }), let last = lastIndex(where: { !$0.isWhitespace }) else { return "" }
        return String(self[first...last])
    }

    /// Its words (letters and digits, in any script), lowercased, one space between them:
    /// how two titles are compared to tell whether they say the same thing, so that neither
    /// case, spacing nor punctuation ("Reinforce", "reinforce.") makes them two. A text of
    /// punctuation alone is compared as it is, spacing aside.
    var normalizedForComparison: String {
        let lowered = lowercased()
        let words = lowered.split { !$0.isLetter && !$0.isNumber }
        return words.isEmpty ? lowered.split(whereSeparator: \.isWhitespace).joined(separator: " ") : words.joined(separator: " ")
    }
}

/// Times and durations in the words of refusals. Figures are never rounded toward
/// compliance: a shortfall is truncated, so 47.96 h reads "47.9 h", never "48.0 h".
public enum TimeText {
    static let hour: Int64 = 3_600_000
    static let minute: Int64 = 60_000

    /// How long `millis` is, truncated: "47.9 h" from an hour up, "42 min" from a minute up, else "12 s".
    public static func truncated(_ millis: Int64) -> String {
        let value = max(millis, 0)
        if value >= hour {
            let tenths = value / (hour / 10)
            return "\(tenths / 10).\(tenths % 10) h"
        }
        if value >= minute { return "\(value / minute) min" }
        return "\(value / 1000) s"
    }

    /// A rule's duration exactly: "48 h", "1 h 30 min", "90 s".
    public static func exact(_ millis: Int64) -> String {
        let value = max(millis, 0)
        var parts: [String] = []
        if value / hour > 0 { parts.append("\(value / hour) h") }
        if value % hour / minute > 0 { parts.append("\(value % hour / minute) min") }
        let rest = value % minute
        if rest > 0 || parts.isEmpty {
            parts.append(rest % 1000 == 0 ? "\(rest / 1000) s" : "\(rest) ms")
        }
        return parts.joined(separator: " ")
    }

    /// A time of day, UTC, to the minute: "2027-01-15 08:00 UTC" (`millis` since 1970).
    public static func date(_ millis: Int64) -> String {
        let (days, rest) = millis.quotientAndRemainder(dividingBy: 86_400_000)
        let (day, inDay) = rest < 0 ? (days - 1, rest + 86_400_000) : (days, rest)
        let (year, month, dayOfMonth) = civil(fromDays: day)
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(year)-\(two(month))-\(two(dayOfMonth)) \(two(inDay / hour)):\(two(inDay % hour / minute)) UTC"
    }

    /// The proleptic Gregorian date of a day number (days since 1970-01-01), after Howard Hinnant's
    /// days_from_civil inverse.
    static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
