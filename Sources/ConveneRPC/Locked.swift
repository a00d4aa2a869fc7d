import NIOConcurrencyHelpers

/// A value behind a lock (NIO's, a pthread mutex).
///
/// Used instead of `Synchronization.Mutex` because ThreadSanitizer sees a pthread mutex's
/// ordering but not that of Mutex's contended path (its futex wait and wake run in the
/// uninstrumented standard library), which made `make test-tsan` report races that were not.
public final class Locked<Value>: @unchecked Sendable {
    @usableFromInline
    let box: NIOLockedValueBox<Value>

    public init(_ value: Value) { box = NIOLockedValueBox(value) }

    @inlinable
    public func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        try box.withLockedValue(body)
    }
}
