#if canImport(Glibc)
import Glibc
#endif

/// The load generator keeps the memory it frees for its next messages.
///
/// By default glibc gives a large freed block back to the kernel (trimming the heap, or
/// unmapping a block past its mmap threshold), and the next message's buffer then faults
/// every page in again, zeroed: receiving 1 MiB messages at 4 GB/s, `convene bench` took
/// some 300,000 page faults a second (`perf stat -e page-faults`), and none with these
/// thresholds; 4,415 / 4,966, 4,170 / 4,800 and 4,454 / 4,670 MiB/s without / with, in
/// turn against one server. A load generator's memory is its working set: keeping it costs
/// nothing a user would miss. The server keeps glibc's defaults (its memory goes back).
enum BenchMemory {
    /// glibc's `mallopt` parameters (<malloc.h>, which Swift's Glibc module does not import).
    private static let trimThreshold: Int32 = -1  // M_TRIM_THRESHOLD
    private static let mmapThreshold: Int32 = -3  // M_MMAP_THRESHOLD

    static func keepFreedMemory() {
        #if canImport(Glibc)
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(nil, "mallopt") else { return }  // nil: RTLD_DEFAULT
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        _ = mallopt(mmapThreshold, 64 << 20)  // blocks below 64 MiB come from the heap...
        _ = mallopt(trimThreshold, 256 << 20)  // ...which is not trimmed below 256 MiB free
        #endif
    }
}
