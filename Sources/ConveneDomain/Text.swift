extension String {
    /// Empty or only whitespace (spaces, tabs, line breaks, in any script).
    var isBlank: Bool { allSatisfy(\.isWhitespace) }
}

extension Int64 {
    /// Milliseconds as hours with one decimal, rounded half up: 36_180_000 is "10.1".
    var hoursText: String {
        let tenths = self / 360_000 + (self % 360_000 >= 180_000 ? 1 : 0)
        return "\(tenths / 10).\(tenths % 10)"
    }
}
