import Foundation

/// A TCP port on 127.0.0.1 that nothing listens on now: the kernel's choice for a socket
/// bound to port 0, closed at once, for a server started as a separate process. (A random
/// port could be one another process already held: the server then failed to bind, and the
/// test's CLI calls went to whatever held it.)
func unusedLocalPort() -> Int {
    let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    precondition(socket >= 0, "socket: \(errno)")
    defer { close(socket) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
            bind(socket, generic, length) == 0 && getsockname(socket, generic, &length) == 0
        }
    }
    precondition(bound, "bind: \(errno)")
    return Int(UInt16(bigEndian: address.sin_port))
}
