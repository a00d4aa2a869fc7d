import Foundation
import ConveneRPC

/// A pthread mutex and condition (ThreadSanitizer follows both).
final class Monitor: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        // Adaptive: a thread that finds it held spins a little before sleeping. The event
        // loop and a plugin's threads hold an executor's for a few instructions at a time,
        // and a sleep and wake-up (system calls, a context switch) cost far more than that.
        var attributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&attributes)
        pthread_mutexattr_settype(&attributes, Int32(PTHREAD_MUTEX_ADAPTIVE_NP))
        pthread_mutex_init(mutex, &attributes)
        pthread_mutexattr_destroy(&attributes)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        condition.deallocate()
    }

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }
    func wait() { pthread_cond_wait(condition, mutex) }
    func signal() { pthread_cond_signal(condition) }
    func broadcast() { pthread_cond_broadcast(condition) }

    /// Waits until `deadline` at most (monotonic clock); false when it timed out.
    func wait(until deadline: ContinuousClock.Instant) -> Bool {
        let remaining = deadline - ContinuousClock.now
        guard remaining > .zero else { return false }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let nanos = Int64(now.tv_nsec) + min(remaining.saturatingNanoseconds, 3_600_000_000_000)
        var until = timespec(tv_sec: now.tv_sec + Int(nanos / 1_000_000_000), tv_nsec: Int(nanos % 1_000_000_000))
        return pthread_cond_timedwait(condition, mutex, &until) == 0
    }
}

/// A counting semaphore (ThreadSanitizer follows it): `post` lets one `wait` through, now or
/// later. Posting makes a system call only when a thread waits.
final class Semaphore: @unchecked Sendable {
    private let semaphore = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)

    init() { sem_init(semaphore, 0, 0) }

    deinit {
        sem_destroy(semaphore)
        semaphore.deallocate()
    }

    func post() { sem_post(semaphore) }

    func wait() {
        while sem_wait(semaphore) != 0, errno == EINTR {}
    }
}
