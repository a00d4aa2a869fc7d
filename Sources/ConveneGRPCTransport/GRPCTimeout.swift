import ConveneWire

/// The `grpc-timeout` header: 1 to 8 ASCII digits and a unit (H, M, S, m, u, n).
enum GRPCTimeout {
    /// The timeout in microseconds (at least 1 for any positive value), clamped to the
    /// longest timeout the server enforces; nil when the value is malformed.
    static func parseMicros(_ text: Substring) -> UInt64? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 2, bytes.count <= 9, let unit = bytes.last else { return nil }
        var amount: UInt64 = 0
        for digit in bytes.dropLast() {
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
            amount = amount * 10 + UInt64(digit - UInt8(ascii: "0"))  // at most 99,999,999: no overflow
        }
        let micros: UInt64
        switch unit {
        case UInt8(ascii: "H"): micros = amount.multipliedReportingOverflow(by: 3_600_000_000).partialValue
        case UInt8(ascii: "M"): micros = amount * 60_000_000
        case UInt8(ascii: "S"): micros = amount * 1_000_000
        case UInt8(ascii: "m"): micros = amount * 1_000
        case UInt8(ascii: "u"): micros = amount
        case UInt8(ascii: "n"): micros = amount == 0 ? 0 : max(1, amount / 1_000)
        default: return nil
        }
        // 99,999,999 hours fits in UInt64 (3.6e17 µs); the clamp keeps deadlines in range.
        return min(micros, CallStart.maxTimeoutMicros)
    }

    /// The shortest exact encoding of `micros` in at most 8 digits (for clients and tests).
    static func format(micros: UInt64) -> String {
        let units: [(UInt64, Character)] = [(1, "u"), (1_000, "m"), (1_000_000, "S"), (60_000_000, "M"), (3_600_000_000, "H")]
        for (scale, unit) in units where micros / scale <= 99_999_999 {
            return "\(micros / scale)\(unit)"
        }
        return "99999999H"
    }
}
