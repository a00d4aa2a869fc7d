/// The one rule of what a text a party sends may hold, for built-in requests
/// (`RequestText`) and plugin requests (the plugin host) alike. Texts are read back by other
/// parties, in terminals and logs too: no NUL, escape sequences or other control characters
/// (but tabs, line and page breaks, as text from documents has), and no bidirectional
/// overrides or isolates, which make a text show other than it reads (U+202E turns
/// "txt.exe" into "exe.txt").
public enum PartyText {
    /// Whether a request's text may not hold `scalar`.
    @inline(__always)
    public static func forbids(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D: false
        case 0x00..<0x20, 0x7F...0x9F, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }

    /// "contains the control character U+001B", of a scalar `forbids` refuses.
    public static func refusal(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        return "contains the control character U+\(String(repeating: "0", count: max(0, 4 - hex.count)) + hex)"
    }
}
