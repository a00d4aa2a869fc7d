import Foundation
import Synchronization

/// What an answer given off the event loop does to have its connection's loop take it: one
/// wake-up (a task on the loop) carries every answer posted to that connection until then.
public protocol LoopWakeup: AnyObject, Sendable {
    func wakeLoop()
}

/// Wake-ups of connections' event loops held back while a thread goes on answering calls:
/// a plugin's thread running a queue of short hooks answers them all, then wakes each loop
/// once, so that the loop takes (and writes) the batch in one turn rather than in one turn
/// per few answers (each turn is a wake-up of the loop, a drain and a write).
///
/// The thread that installs it releases it whenever it stops answering (before it sleeps,
/// before a hook that may take long); another thread may release it too (a watchdog that
/// finds the thread stuck in a hook), so nothing held waits for a hook that never returns.
public final class HeldWakeups: Sendable {
    private let held = Mutex<[any LoopWakeup]>([])

    public init() {}

    /// The wake-ups held on the current thread, when one installed them.
    public static var current: HeldWakeups? {
        guard let pointer = pthread_getspecific(threadKey) else { return nil }
        return Unmanaged<HeldWakeups>.fromOpaque(pointer).takeUnretainedValue()
    }

    /// Holds the wake-ups of answers given on this thread from now on (until `uninstall`).
    /// The caller keeps `self` alive meanwhile.
    public func install() {
        pthread_setspecific(Self.threadKey, Unmanaged.passUnretained(self).toOpaque())
    }

    /// Releases what is held, and holds nothing more on this thread.
    public func uninstall() {
        pthread_setspecific(Self.threadKey, nil)
        release()
    }

    /// Keeps `wakeup` until the next `release`.
    public func hold(_ wakeup: any LoopWakeup) {
        held.withLock { $0.append(wakeup) }
    }

    public var isEmpty: Bool { held.withLock { $0.isEmpty } }

    /// Wakes every loop held back, in the order held.
    public func release() {
        let wakeups = held.withLock { held -> [any LoopWakeup] in
            guard !held.isEmpty else { return [] }
            defer { held.removeAll(keepingCapacity: true) }
            return held
        }
        for wakeup in wakeups { wakeup.wakeLoop() }
    }

    /// Wakes `wakeup`'s loop now, or later when the current thread holds wake-ups back.
    public static func wake(_ wakeup: any LoopWakeup) {
        if let current {
            current.hold(wakeup)
        } else {
            wakeup.wakeLoop()
        }
    }

    private static let threadKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()
}
