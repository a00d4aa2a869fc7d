import Foundation

/// Numbers as protobuf's JSON mapping writes and reads them.
enum JSONNumbers {
    /// A float or double: a JSON number, or "NaN", "Infinity", "-Infinity".
    static func json(_ value: Double, float: Bool) -> JSONValue {
        if value.isNaN { return .string("NaN") }
        if value.isInfinite { return .string(value < 0 ? "-Infinity" : "Infinity") }
        // Shortest text that reads back as the same value of the field's own width.
        return .number(float ? Float(value).description : value.description)
    }

    /// An integer field's value from a JSON number or a string holding one. A fraction or
    /// exponent is accepted when the value is whole ("1.0", "1e3"); out of range is refused.
    static func integer<T: FixedWidthInteger>(_ value: JSONValue, _ type: T.Type, name: String) throws(DynamicCodecError) -> T {
        let text: String
        switch value {
        case .number(let n): text = n
        case .string(let s): text = s
        default: throw DynamicCodecError("\(name) must be an integer (a number or a string of digits)")
        }
        guard let digits = wholeNumber(text), let parsed = T(digits, radix: 10) else {
            throw DynamicCodecError("\(name): '\(text)' is not an integer in \(T.min)...\(T.max)")
        }
        return parsed
    }

    /// The decimal digits (with '-') of a JSON number that is whole, without fraction or
    /// exponent; nil when it is not a number or not whole.
    static func wholeNumber(_ text: String) -> String? {
        var bytes = Substring(text).utf8[...]
        var negative = false
        if bytes.first == UInt8(ascii: "-") { negative = true; bytes = bytes.dropFirst() }
        var mantissa = "", fractionDigits = 0, exponent = 0, seenPoint = false, seenDigit = false
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                mantissa.append(Character(Unicode.Scalar(byte)))
                if seenPoint { fractionDigits += 1 }
                seenDigit = true
            } else if byte == UInt8(ascii: "."), !seenPoint {
                seenPoint = true
            } else if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
                let rest = String(decoding: bytes[bytes.index(after: index)...], as: UTF8.self)
                guard let e = Int(rest.hasPrefix("+") ? String(rest.dropFirst()) : rest), abs(e) <= 400 else { return nil }
                exponent = e
                break
            } else {
                return nil
            }
            index = bytes.index(after: index)
        }
        guard seenDigit else { return nil }
        let scale = exponent - fractionDigits
        if scale >= 0 {
            mantissa += String(repeating: "0", count: scale)
        } else {
            let dropped = mantissa.suffix(-scale)
            guard dropped.allSatisfy({ $0 == "0" }) else { return nil }
            mantissa = String(mantissa.dropLast(-scale))
        }
        mantissa = String(mantissa.drop { $0 == "0" })
        if mantissa.isEmpty { return "0" }
        return (negative ? "-" : "") + mantissa
    }

    /// A float or double field's value: a JSON number, a string holding one, or "NaN",
    /// "Infinity", "-Infinity". A finite value beyond a float's range is refused.
    static func real(_ value: JSONValue, float: Bool, name: String) throws(DynamicCodecError) -> Double {
        let text: String
        switch value {
        case .number(let n): text = n
        case .string("NaN"): return .nan
        case .string("Infinity"): return .infinity
        case .string("-Infinity"): return -.infinity
        case .string(let s): text = s
        default: throw DynamicCodecError("\(name) must be a number")
        }
        guard (try? JSONValue.parse(text)).map({ if case .number = $0 { true } else { false } }) == true,
              let parsed = Double(text), parsed.isFinite else {
            throw DynamicCodecError("\(name): '\(text)' is not a finite number")
        }
        if float, abs(parsed) > Double(Float.greatestFiniteMagnitude) {
            throw DynamicCodecError("\(name): \(text) is beyond a float's range")
        }
        return parsed
    }
}

/// Base64 as protobuf's JSON mapping reads it: standard or URL-safe, padded or not.
enum Base64 {
    static func decode(_ text: String) -> [UInt8]? {
        var standard = String(text.map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
        while standard.hasSuffix("=") { standard.removeLast() }
        guard !standard.contains("=") else { return nil }
        let remainder = standard.utf8.count % 4
        guard remainder != 1 else { return nil }
        if remainder > 0 { standard += String(repeating: "=", count: 4 - remainder) }
        return Data(base64Encoded: standard).map { Array($0) }
    }
}
