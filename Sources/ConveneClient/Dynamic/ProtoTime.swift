/// Timestamp and Duration in their JSON forms, with exact integer arithmetic (no
/// floating-point seconds, no Foundation formatter rounding).
enum ProtoTime {
    /// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z, the range protobuf allows.
    static let minSeconds: Int64 = -62_135_596_800
    static let maxSeconds: Int64 = 253_402_300_799
    /// ±10,000 years, the range of a Duration.
    static let maxDurationSeconds: Int64 = 315_576_000_000

    /// "1972-01-01T10:00:20.021Z": UTC, with 0, 3, 6 or 9 fractional digits.
    static func timestamp(seconds: Int64, nanos: Int32) throws(DynamicCodecError) -> String {
        guard (minSeconds...maxSeconds).contains(seconds), (0...999_999_999).contains(nanos) else {
            throw DynamicCodecError("Timestamp \(seconds) s + \(nanos) ns is outside 0001-01-01 to 9999-12-31")
        }
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = civil(days: days)
        let time = "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondOfDay / 3600, 2)):"
            + "\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2))"
        return time + fraction(nanos) + "Z"
    }

    /// "-1.000340012s": seconds with 0, 3, 6 or 9 fractional digits.
    static func duration(seconds: Int64, nanos: Int32) throws(DynamicCodecError) -> String {
        guard abs(seconds) <= maxDurationSeconds, abs(nanos) <= 999_999_999,
              seconds == 0 || nanos == 0 || (seconds < 0) == (nanos < 0) else {
            throw DynamicCodecError("Duration \(seconds) s + \(nanos) ns is out of range or has mixed signs")
        }
        let negative = seconds < 0 || nanos < 0
        return (negative ? "-" : "") + "\(abs(seconds))" + fraction(abs(nanos)) + "s"
    }

    static func parseTimestamp(_ text: String) throws(DynamicCodecError) -> (Int64, Int32) {
        let bytes = Array(text.utf8)
        func fail() -> DynamicCodecError { DynamicCodecError("'\(text)' is not an RFC 3339 time like 1972-01-01T10:00:20.021Z") }
        func number(_ from: Int, _ count: Int) throws(DynamicCodecError) -> Int64 {
            guard from + count <= bytes.count else { throw fail() }
            var value: Int64 = 0
            for b in bytes[from..<from + count] {
                guard b >= 48, b <= 57 else { throw fail() }
                value = value * 10 + Int64(b - 48)
            }
            return value
        }
        guard bytes.count >= 20, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
              bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t"),
              bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":") else { throw fail() }
        let (year, month, day) = (try number(0, 4), try number(5, 2), try number(8, 2))
        let (hour, minute, second) = (try number(11, 2), try number(14, 2), try number(17, 2))
        guard (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
              hour < 24, minute < 60, second < 60 else { throw fail() }
        var index = 19
        var nanos: Int64 = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            let start = index
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 { index += 1 }
            let count = index - start
            guard (1...9).contains(count) else { throw fail() }
            nanos = try number(start, count)
            for _ in count..<9 { nanos *= 10 }
        }
        guard index < bytes.count else { throw fail() }
        var offset: Int64 = 0
        switch bytes[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            index += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard index + 6 == bytes.count, bytes[index + 3] == UInt8(ascii: ":") else { throw fail() }
            let (h, m) = (try number(index + 1, 2), try number(index + 4, 2))
            guard h < 24, m < 60 else { throw fail() }
            offset = (h * 3600 + m * 60) * (bytes[index] == UInt8(ascii: "+") ? 1 : -1)
            index += 6
        default:
            throw fail()
        }
        guard index == bytes.count else { throw fail() }
        let seconds = days(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second - offset
        guard (minSeconds...maxSeconds).contains(seconds) else {
            throw DynamicCodecError("'\(text)' is outside 0001-01-01 to 9999-12-31")
        }
        return (seconds, Int32(nanos))
    }

    static func parseDuration(_ text: String) throws(DynamicCodecError) -> (Int64, Int32) {
        func fail() -> DynamicCodecError { DynamicCodecError("'\(text)' is not a Duration like \"1.5s\" or \"-0.000001s\"") }
        guard text.hasSuffix("s") else { throw fail() }
        var body = Substring(text.dropLast())
        let negative = body.hasPrefix("-")
        if negative { body = body.dropFirst() }
        let parts = body.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = parts.first, !whole.isEmpty, whole.allSatisfy(\.isASCIIDigit),
              let seconds = Int64(whole), seconds <= maxDurationSeconds else { throw fail() }
        var nanos: Int64 = 0
        if parts.count == 2 {
            let fraction = parts[1]
            guard (1...9).contains(fraction.count), fraction.allSatisfy(\.isASCIIDigit), let n = Int64(fraction) else { throw fail() }
            nanos = n
            for _ in fraction.count..<9 { nanos *= 10 }
        }
        return negative ? (-seconds, Int32(-nanos)) : (seconds, Int32(nanos))
    }

    private static func fraction(_ nanos: Int32) -> String {
        if nanos == 0 { return "" }
        if nanos % 1_000_000 == 0 { return "." + pad(Int64(nanos / 1_000_000), 3) }
        if nanos % 1_000 == 0 { return "." + pad(Int64(nanos / 1_000), 6) }
        return "." + pad(Int64(nanos), 9)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }

    /// Days since 1970-01-01 of a civil date, and back (H. Hinnant's algorithms).
    static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
