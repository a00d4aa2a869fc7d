import CConvenePluginSandbox
import Foundation

/// The sandbox an isolated plugin's runner puts itself in before it loads the plugin: Linux's
/// Landlock (it may read the system's libraries and what of /etc they use, the runtime's
/// libraries and its own library, write only to /dev/null and its like, create or remove
/// nothing on disk, and, Landlock ABI 6 on, signal no process outside it; at any ABI it
/// cannot trace the server nor read its memory), no capability (a server run as root has a
/// runner without root's powers), and a seccomp filter for what Landlock does not cover (a
/// file's mode, owner, times, attributes and locks, keyrings, System V IPC, namespaces,
/// io_uring, another process's limits and scheduling, leaving its process group, sockets on
/// disk and datagram pairs, and without `--plugin-network allow` every new socket). So the
/// server's database, credentials and memory are out of a hostile library's reach in the
/// runner, not only out of the ABI's.
/// See Docs/PLUGINS.md, "Isolation".
public enum RunnerSandbox {
    public enum Mode: String, Sendable, CaseIterable {
        /// Sandboxed as far as the kernel allows; a part it refuses (Landlock where the kernel
        /// has none) is named in a warning in the server's log and the plugin runs without it.
        case on
        /// A plugin whose process cannot be sandboxed does not start.
        case require
        /// Not sandboxed: the plugin's process can read and write what the server's user can.
        case off
    }

    /// Whether a sandboxed plugin may open network sockets (`--plugin-network`).
    public enum Network: String, Sendable, CaseIterable {
        /// No socket of any domain: what the plugin knows it tells only its callers, through
        /// the server, and it reaches no service on the server's machine or network (the
        /// server's own ports, a database, a cloud's metadata address).
        case deny
        /// Sockets of the internet's domains (TCP, UDP), as the server's machine has them;
        /// sockets on disk and the kernel's (netlink, raw packets) stay refused.
        case allow
    }

    /// Files a plugin may read and write (and only those): what libraries open for their own ends.
    static let writable = ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"]

    /// What of /etc a library may need (the loader's cache, time zone, names and addresses,
    /// certificates, locale): not all of it, where a server run as root keeps what only root
    /// may read (/etc/shadow, the SSH host keys, TLS keys in /etc/ssl/private or
    /// /etc/pki/tls/private), which a runner's root, even without capabilities, would read as
    /// their owner. A name missing here is skipped.
    static let systemConfiguration = [
        "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/timezone",
        "/etc/nsswitch.conf", "/etc/passwd", "/etc/group", "/etc/hosts", "/etc/host.conf", "/etc/resolv.conf",
        "/etc/gai.conf", "/etc/services", "/etc/protocols", "/etc/networks", "/etc/ssl/certs", "/etc/ssl/openssl.cnf",
        "/etc/ssl/cert.pem", "/etc/ca-certificates", "/etc/pki/ca-trust", "/etc/pki/tls/certs", "/etc/pki/tls/openssl.cnf",
        "/etc/pki/tls/cert.pem", "/etc/crypto-policies", "/etc/locale.alias", "/etc/locale.conf", "/etc/os-release",
        "/etc/mime.types", "/etc/fonts",
    ]

    /// What the runner may read: the system's libraries and what of its configuration they
    /// use, the directories of the libraries it has mapped (the Swift runtime's, wherever the
    /// toolchain is), and the plugin's library file (its pinned copy): not its directory,
    /// where anything may lie.
    static func readable(library: String, copy: String?) -> [String] {
        var paths = ["/usr", "/lib", "/lib64", "/lib32", "/proc", "/sys"] + systemConfiguration
        paths += mappedLibraryDirectories()
        paths.append(copy ?? library)
        var seen = Set<String>()
        return paths.filter { !$0.isEmpty && seen.insert($0).inserted }
    }

    /// The directories of the shared libraries this process has mapped (from /proc/self/maps).
    static func mappedLibraryDirectories() -> [String] {
        guard let maps = try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8) else { return [] }
        var directories: [String] = []
        for line in maps.split(separator: "\n") {
            guard let slash = line.firstIndex(of: "/") else { continue }
            let path = String(line[slash...])
            guard path.contains(".so") else { continue }
            directories.append((path as NSString).deletingLastPathComponent)
        }
        return directories
    }

    /// Restricts this process (which must have one thread yet); the Landlock ABI used, or which
    /// parts could not be applied. Each part stands alone: a kernel without Landlock still
    /// gets the capabilities dropped and the system-call filter, so `on` keeps what it can.
    static func apply(library: String, copy: String?, network: Network) -> Result<Int, Refusal> {
        guard threadCount() <= 1 else { return .failure(Refusal("the runner had started threads before it sandboxed itself")) }
        var missing: [String] = []
        let abi = restrictFiles(readable: readable(library: library, copy: copy))
        if case .failure(let reason) = abi { missing.append(reason.description) }
        if convene_sandbox_drop_capabilities() != 0 {
            missing.append("its capabilities could not be dropped: \(String(cString: strerror(errno)))")
        }
        if convene_sandbox_filter_system_calls(network == .allow ? 1 : 0) != 0 {
            missing.append("no seccomp filter: \(String(cString: strerror(errno)))")
        }
        guard missing.isEmpty, case .success(let version) = abi else { return .failure(Refusal(missing.joined(separator: "; "))) }
        return .success(version)
    }

    /// Landlock's file rules; the ABI applied, or why none.
    private static func restrictFiles(readable: [String]) -> Result<Int, Refusal> {
        var what: UnsafePointer<CChar>?
        let abi = withCStrings(readable) { readablePointers in
            withCStrings(Self.writable) { writablePointers in
                convene_sandbox_restrict(readablePointers.baseAddress, readablePointers.count,
                                         writablePointers.baseAddress, writablePointers.count, &what)
            }
        }
        guard abi >= 1 else {
            let step = what.map { String(cString: $0) } ?? "Landlock"
            let reason = errno == EOPNOTSUPP || errno == ENOSYS
                ? "this kernel offers no Landlock"
                : "\(step): \(String(cString: strerror(errno)))"
            return .failure(Refusal(reason))
        }
        return .success(Int(abi))
    }

    public struct Refusal: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// The threads of this process (from /proc/self/status); 0 when unknown.
    private static func threadCount() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Threads:") }) else { return 0 }
        return Int(line.dropFirst("Threads:".count).trimmingCharacters(in: .whitespaces)) ?? 0
    }

    private static func withCStrings<Result>(_ strings: [String], _ body: (UnsafeBufferPointer<UnsafePointer<CChar>?>) -> Result) -> Result {
        let copies = strings.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        let pointers = copies.map { UnsafePointer($0) }
        return pointers.withUnsafeBufferPointer(body)
    }
}

extension RunnerSandbox {
    /// The Landlock ABI version this kernel offers; 0 when none.
    public static var landlockABI: Int { Int(convene_sandbox_abi()) }
}
