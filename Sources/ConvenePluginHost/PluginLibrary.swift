import ConvenePluginABI
import ConveneRPC
import Foundation
import Logging

/// A plugin library loaded into this process: a private copy of the file opened with
/// `dlopen`, its entry point called, its descriptor read. Used by the server (in-process
/// plugins) and by the runner process (isolated plugins) alike.
final class PluginLibrary: @unchecked Sendable {
    let manifest: PluginManifest
    let handle: UnsafeMutableRawPointer
    /// Each method's `on_call` and its entry in the plugin's table (passed back to it).
    let methods: [(onCall: convene_on_call_fn, entry: UnsafePointer<convene_method>)]
    let state: UnsafeMutableRawPointer?
    let onEvent: convene_on_event_fn?
    let onUnload: (@convention(c) (UnsafeMutableRawPointer?) -> Void)?
    /// The plugin's `convene_host*`, valid while the library is loaded.
    let hostHandle: OpaquePointer
    private static let copies = Locked(0)

    /// Copies `path` into `pinDirectory` (when given) and loads the copy, so that replacing
    /// the file later never touches the code that runs, and a rebuilt library at the same
    /// path is new code when loaded again. The copy is removed once mapped. A copy made
    /// already (`pinned`: its path, and whether it holds Swift code) is loaded and kept.
    init(path: String, pinned: (copy: String, containsSwift: Bool)? = nil, pinDirectory: String?,
         logger: any HostLogger) throws(PluginLoadError) {
        var loadPath = path
        var containsSwift = true
        if let pinned {
            loadPath = pinned.copy
            containsSwift = pinned.containsSwift
        } else if let pinDirectory {
            let (copy, swift) = try Self.pin(path, into: pinDirectory)
            loadPath = copy
            containsSwift = swift
        }
        let opened = dlopen(loadPath, RTLD_NOW | RTLD_LOCAL)
        if loadPath != path, pinned == nil { unlink(loadPath) }
        guard let handle = opened else {
            throw .cannotOpen(path: path, reason: String(cString: dlerror()).replacingOccurrences(of: loadPath, with: path))
        }
        var keepOpen = false
        defer { if !keepOpen { dlclose(handle) } }
        if let refusal = ToolchainCheck.refusal(handle) { throw .cannotOpen(path: path, reason: refusal) }
        guard let symbol = dlsym(handle, CONVENE_PLUGIN_ENTRY) else { throw .missingEntry(path: path) }
        let entry = unsafeBitCast(symbol, to: convene_plugin_entry_fn.self)
        let hostHandle = HostAPI.hosts.insert(logger, owner: (path as NSString).lastPathComponent)
        var descriptorPointer: UnsafePointer<convene_plugin_descriptor>?
        var errorPointer: UnsafePointer<CChar>?
        let status = entry(HostAPI.table, hostHandle, &descriptorPointer, &errorPointer)
        do {
            guard status == 0 else {
                let message = errorPointer.map { String(cString: $0) } ?? ""
                throw PluginLoadError.initFailed(path: path, status: status, message: String(message.prefix(1000)))
            }
            guard let descriptor = descriptorPointer?.pointee else {
                throw PluginLoadError.badDescriptor(path: path, reason: "the entry point returned OK without a descriptor")
            }
            manifest = try PluginManifest(path: path, descriptor: descriptor, containsSwift: containsSwift)
            methods = (0..<manifest.methods.count).map { i in
                let entry = descriptor.methods!.advanced(by: i)
                return (entry.pointee.on_call!, entry)
            }
            state = descriptor.state
            onEvent = descriptor.on_event
            onUnload = descriptor.on_unload
        } catch let error as PluginLoadError {
            HostAPI.hosts.remove(hostHandle)
            throw error
        } catch {
            HostAPI.hosts.remove(hostHandle)
            throw .badDescriptor(path: path, reason: "\(error)")
        }
        self.handle = handle
        self.hostHandle = hostHandle
        keepOpen = true
    }

    /// Calls `on_unload`, ends the plugin's host handle and, for a library without Swift
    /// code, closes it. Only with no hook running.
    func unload() {
        onUnload?(state)
        HostAPI.hosts.remove(hostHandle)
        if !manifest.containsSwift { dlclose(handle) }
    }

    /// The largest library file loaded.
    static let maxFileSize = 1 << 30

    /// A private copy of `path` in `directory`, and whether it holds Swift code. The copy is
    /// made by the kernel (`sendfile`) from the one descriptor `openChecked` vetted: a
    /// library of tens of MiB is not read into, zeroed in and written from this process
    /// (where the file systems cannot, through a buffer: `FileCopy`).
    static func pin(_ path: String, into directory: String) throws(PluginLoadError) -> (String, Bool) {
        let (source, size) = try openChecked(path)
        defer { close(source) }
        let number = copies.withLock { count -> Int in
            count += 1
            return count
        }
        let copy = (directory as NSString).appendingPathComponent(
            "\(getpid())-\(number)-\((path as NSString).lastPathComponent)")
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .cannotOpen(path: path, reason: "cannot copy it to \(directory): \(error.localizedDescription)")
        }
        let target = open(copy, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard target >= 0 else {
            throw .cannotOpen(path: path, reason: "cannot copy it to \(directory): \(String(cString: strerror(errno)))")
        }
        defer { close(target) }
        switch FileCopy.copy(from: source, to: target, count: size) {
        case .copied(size):
            break
        case .copied:
            unlink(copy)
            throw .cannotOpen(path: path, reason: "the file changed while it was read")
        case .failed(let error):
            unlink(copy)
            throw .cannotOpen(path: path, reason: "cannot copy it to \(directory): \(String(cString: strerror(error)))")
        }
        let names = ELFSections.names(size: size) { offset, count in
            var bytes = [UInt8](repeating: 0, count: count)
            let got = bytes.withUnsafeMutableBytes { pread(target, $0.baseAddress, count, off_t(offset)) }
            return got == count ? bytes : nil
        }
        return (copy, names.contains { $0.hasPrefix("swift5_") })
    }

    /// A descriptor of the regular file at `path` and its size. The file is copied from this
    /// descriptor, never mapped (a file truncated meanwhile would fault the server), and it
    /// must still be at `path` when `path` is resolved (`PluginHost.allowedPath`): a folder
    /// on the way swapped for a symlink after the check is refused, not followed.
    static func openChecked(_ path: String) throws(PluginLoadError) -> (descriptor: Int32, size: Int) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard descriptor >= 0 else {
            throw .cannotOpen(path: path, reason: "cannot read the file: \(String(cString: strerror(errno)))")
        }
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            close(descriptor)
            throw .cannotOpen(path: path, reason: "not a regular file")
        }
        guard status.st_size <= maxFileSize else {
            close(descriptor)
            throw .cannotOpen(path: path, reason: "the file is over \(maxFileSize >> 20) MiB")
        }
        if path.hasPrefix("/"), let opened = openedPath(descriptor), opened != path {
            close(descriptor)
            throw .cannotOpen(path: path, reason: "the file moved while it was loaded (it is \(opened) now)")
        }
        return (descriptor, Int(status.st_size))
    }

    /// Where the file open as `descriptor` is, from /proc.
    private static func openedPath(_ descriptor: Int32) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/fd/\(descriptor)", &buffer, buffer.count - 1)
        guard length > 0 else { return nil }
        return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
