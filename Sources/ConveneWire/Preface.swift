import NIOCore

/// The 8 bytes each side sends first: `"CNVN"`, major and minor version, two reserved zero bytes.
///
/// ```
/// +-------+-------+-------+-------+-------+-------+---------------+
/// |  'C'  |  'N'  |  'V'  |  'N'  | major | minor | reserved (16) |
/// +-------+-------+-------+-------+-------+-------+---------------+
/// ```
/// The client sends its preface then its SETTINGS; the server answers with its own
/// preface then its SETTINGS. A server that does not speak the client's major version
/// answers with its preface and a GOAWAY `unsupportedVersion`, then closes.
public struct Preface: Hashable, Sendable {
    public static let size = 8
    public static let magic: UInt32 = 0x434E_564E  // "CNVN"
    /// The version this implementation speaks.
    public static let current = Preface(major: 1, minor: 0)

    public var major: UInt8
    public var minor: UInt8

    public init(major: UInt8, minor: UInt8) {
        self.major = major
        self.minor = minor
    }
}

extension ByteBuffer {
    public mutating func writePreface(_ preface: Preface) {
        writeMultipleIntegers(Preface.magic, preface.major, preface.minor, UInt16(0))
    }

    /// Reads a preface: nil when fewer than 8 bytes are readable; throws `badPreface` for anything but the magic.
    public mutating func readPreface() throws(WireError) -> Preface? {
        guard let (magic, major, minor, _) = getMultipleIntegers(at: readerIndex, as: (UInt32, UInt8, UInt8, UInt16).self)
        else { return nil }
        guard magic == Preface.magic else { throw .badPreface }
        moveReaderIndex(forwardBy: Preface.size)
        return Preface(major: major, minor: minor)
    }
}
