import Foundation

/// Which of a runner's threads reads the server's messages. One thread reads at a time
/// (it holds the baton, a generation number); between two reads it runs the plugin's short
/// hooks itself (`PluginExecutor.runQueuedHere`), so a burst of calls costs no wake-up of
/// another thread. A reader in a hook reads nothing, so the baton passes on:
///
/// - when its hook calls a host function, whose reply someone must read (`handOverIfReader`);
/// - when its hook runs past `handOverAfterNanos` (the watchdog's `handOverIfStalled`, every
///   2 ms while the runner is busy, every 50 ms after a quiet spell), so a hook that hangs
///   holds up the reading for a few milliseconds (50 at most), and the calls behind it, and
///   the abandonment of the hook itself, are read by the next reader.
///
/// The next reader is the spare thread parked for it, or a new thread. A reader that lost the
/// baton finishes its hook and then parks as the spare, or ends when there is one already.
final class RunnerReaders: @unchecked Sendable {
    /// How long a reader's hook may run before another thread takes over the reading.
    static let handOverAfterNanos: UInt64 = 2_000_000

    private let monitor = Monitor()
    private var generation = 0
    /// The reader's thread and the worker it lends the executor; nil until it starts.
    private var reader: (thread: pthread_t, worker: PluginExecutor.Worker)?
    /// Read batches so far, and as many when the watchdog last looked.
    private var batches = 0
    private var batchesSeen = 0
    private var spareParked = false
    private var spareGeneration: Int?
    private let executor: PluginExecutor
    typealias Read = @Sendable (_ generation: Int, _ worker: PluginExecutor.Worker) -> Void
    /// Set once, by `serve(_:)`, before any thread reads (a hand-over needs a reader first).
    private var read: Read = { _, _ in }

    init(executor: PluginExecutor) {
        self.executor = executor
    }

    /// Serves as the first reader, on the calling thread; returns when this thread is no
    /// longer needed. `read` reads for `generation` until `isReading` says it no longer may.
    func serve(_ read: @escaping Read) {
        monitor.lock()
        self.read = read
        monitor.unlock()
        serve(generation: 0)
    }

    private func serve(generation first: Int) {
        var generation = first
        while true {
            let worker = executor.lendableWorker()
            monitor.lock()
            let current = generation == self.generation
            if current { reader = (pthread_self(), worker) }
            let read = self.read
            monitor.unlock()
            if current { read(generation, worker) }
            guard let next = park() else { return }
            generation = next
        }
    }

    /// Whether `generation` still holds the baton, after a read batch.
    func isReading(_ generation: Int) -> Bool {
        monitor.lock()
        defer { monitor.unlock() }
        batches &+= 1
        return generation == self.generation
    }

    /// Called in a hook about to wait for the server: when this thread is the reader, another takes over.
    func handOverIfReader() {
        monitor.lock()
        guard let reader, pthread_equal(reader.thread, pthread_self()) != 0 else {
            monitor.unlock()
            return
        }
        handOver()
    }

    /// The watchdog's tick: a reader in a hook for longer than `handOverAfterNanos` hands over.
    /// True while the runner is busy (a read batch since the last tick, or the reader in a
    /// hook): the watchdog then looks again soon.
    func handOverIfStalled() -> Bool {
        monitor.lock()
        let busy = batches != batchesSeen
        batchesSeen = batches
        guard let reader, let elapsed = executor.hookElapsed(reader.worker) else {
            monitor.unlock()
            return busy
        }
        guard elapsed >= Self.handOverAfterNanos else {
            monitor.unlock()
            return true
        }
        handOver()
        return true
    }

    /// Called with the monitor held, released on return.
    private func handOver() {
        generation += 1
        reader = nil
        let next = generation
        if spareParked {
            spareParked = false
            spareGeneration = next
            monitor.unlock()
            monitor.broadcast()
            return
        }
        monitor.unlock()
        let thread = Thread { [self] in serve(generation: next) }
        thread.name = "plugin reader"
        thread.start()
    }

    /// A thread that lost the baton: parks as the spare (returning the generation it is handed
    /// later), or returns nil when a spare is parked already.
    private func park() -> Int? {
        monitor.lock()
        defer { monitor.unlock() }
        guard !spareParked, spareGeneration == nil else { return nil }
        spareParked = true
        while spareGeneration == nil { monitor.wait() }
        defer { spareGeneration = nil }
        return spareGeneration
    }
}
