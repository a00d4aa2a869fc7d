#if canImport(Glibc)
import Glibc
#endif

/// How the process's allocator gives memory back (glibc; a no-op elsewhere).
///
/// By default glibc moves its mmap threshold up to the largest block freed (to 32 MiB): after
/// a burst of large messages, later ones come from the heap arenas, whose free pages stay
/// with the process, so RSS does not come back after an attack. `convened` fixes the
/// thresholds at start (which also stops that adjustment): blocks of 1 MiB and more are
/// mapped and unmapped (returned at once); smaller ones come from at most 4 arenas; the top
/// of a heap is trimmed past 8 MiB free. The server trims the arenas (`malloc_trim(0)`:
/// free pages in their middle too) when its load drops (`ServerMonitor`). zlib's 256 KiB
/// streams no longer come and go per message (`ZStreamPool`).
///
/// `mallopt` and `malloc_trim` are in glibc's malloc.h, which Swift's Glibc module does
/// not import: they are looked up by name.
public enum MemoryTuning {
    // malloc.h's parameter numbers.
    static let trimThreshold: Int32 = -1, topPad: Int32 = -2, mmapThreshold: Int32 = -3, arenaMax: Int32 = -8

    public static func apply() {
        guard let mallopt = function("mallopt", as: (@convention(c) (Int32, Int32) -> Int32).self) else { return }
        _ = mallopt(mmapThreshold, 1 << 20)
        _ = mallopt(trimThreshold, 8 << 20)
        _ = mallopt(topPad, 1 << 20)
        _ = mallopt(arenaMax, 4)
    }

    /// Gives the free pages of every arena back to the system.
    static func trim() {
        guard let trim = function("malloc_trim", as: (@convention(c) (Int) -> Int32).self) else { return }
        _ = trim(0)
    }

    private static func function<F>(_ name: String, as type: F.Type) -> F? {
        #if canImport(Glibc)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil }
        return unsafeBitCast(symbol, to: type)
        #else
        return nil
        #endif
    }
}
