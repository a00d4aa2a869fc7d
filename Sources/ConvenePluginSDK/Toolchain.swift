/// The Swift toolchain this SDK (and so the plugin) was built with, major.minor. A Swift plugin
/// shares the server's Swift runtime, which is not ABI-stable on Linux across toolchains: the
/// generated entry point exports it as `convene_plugin_swift_toolchain`, and the host refuses a
/// plugin built with another toolchain than its own, naming both (ConvenePluginHost's copy of this).
public enum SwiftToolchain {
    #if compiler(>=6.6)
    public static let version = "newer than 6.5"
    #elseif compiler(>=6.5)
    public static let version = "6.5"
    #elseif compiler(>=6.4)
    public static let version = "6.4"
    #elseif compiler(>=6.3)
    public static let version = "6.3"
    #elseif compiler(>=6.2)
    public static let version = "6.2"
    #elseif compiler(>=6.1)
    public static let version = "6.1"
    #else
    public static let version = "older than 6.1"
    #endif

    /// The version as a C string that lives as long as the library (immutable once made).
    nonisolated(unsafe) public static let cString: UnsafePointer<CChar> = {
        let bytes = Array(version.utf8CString)
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count)
        buffer.initialize(from: bytes, count: bytes.count)
        return UnsafePointer(buffer)
    }()
}
