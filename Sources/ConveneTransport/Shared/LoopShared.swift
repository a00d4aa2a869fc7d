import ConveneRPC
import NIOCore

/// An object of which each event loop has one (its timers, its turns of yielding
/// connections), made the first time something on the loop asks for it (`on`) and kept
/// while something holds it: the loop's connections, its own pending task, or (the turns,
/// once their pipe is open) the pipe's channel, until the loop closes. Confined to its loop.
package protocol LoopShared: AnyObject {
    /// Called by `on` only, under its lock: it must be cheap and must not call `on`.
    init(eventLoop: any EventLoop)
    var eventLoop: any EventLoop { get }
}

/// Holds a loop's shared object weakly: it lives while something holds it (see `LoopShared`),
/// and it holds its loop. Never the loop itself weakly: an object
/// once referenced weakly is retained and released through its side table ever after, and
/// NIO retains its event loop several times per read and write.
private final class WeaklyShared: @unchecked Sendable {
    weak var value: (any LoopShared)?
    init(_ value: any LoopShared) {
        self.value = value
    }
}

private struct LoopSharedKey: Hashable {
    let loop: ObjectIdentifier
    let kind: ObjectIdentifier
}

private struct LoopSharedRegistry {
    var entries: [LoopSharedKey: WeaklyShared] = [:]
    /// Entries whose object is gone are swept out when there are more entries than this:
    /// twice the live ones at the last sweep, and 64 more (a loop's objects may live as long
    /// as the loop, so sweeping past a fixed count would sweep at every lookup on a host with
    /// many loops).
    var sweepAbove = 64
}

private let loopSharedRegistry = Locked(LoopSharedRegistry())

extension LoopShared {
    /// The loop's one `Self` (call on that loop).
    package static func on(_ eventLoop: any EventLoop) -> Self {
        let key = LoopSharedKey(loop: ObjectIdentifier(eventLoop as AnyObject), kind: ObjectIdentifier(Self.self))
        return loopSharedRegistry.withLock { registry in
            // A live object holds its loop, so a live entry's loop cannot have been freed
            // and its address reused by another.
            if let found = registry.entries[key]?.value as? Self, found.eventLoop === eventLoop as AnyObject { return found }
            if registry.entries.count > registry.sweepAbove {
                registry.entries = registry.entries.filter { $0.value.value != nil }
                registry.sweepAbove = 2 * registry.entries.count + 64
            }
            let made = Self(eventLoop: eventLoop)  // cheap: what it opens, it opens on first use
            registry.entries[key] = WeaklyShared(made)
            return made
        }
    }
}
