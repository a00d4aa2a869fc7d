import ConveneRPC
import Foundation
import XCTest

/// /proc as the plugin watchdog reads it, 20 times a second per isolated plugin: what it
/// answers, and that reading keeps nothing (Foundation's reader kept 4 KiB of every empty file).
final class ProcFSTests: XCTestCase {
    func residentPages() -> Int {
        Int(ProcFS.contents("/proc/self/statm")?.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    func testItReadsFilesAndDirectoriesOfProc() throws {
        let pid = getpid()
        XCTAssertEqual(ProcFS.contents("/proc/\(pid)/task/\(pid)/children"), "", "no child: an empty file")
        XCTAssertTrue(ProcFS.contents("/proc/self/stat")?.hasPrefix("\(pid) (") == true)
        XCTAssertTrue(ProcFS.entries("/proc/self/task")?.contains(String(pid)) == true)
        XCTAssertFalse(ProcFS.entries("/proc/self/task")?.contains(".") ?? true)
        XCTAssertNil(ProcFS.contents("/proc/no-such-file"))
        XCTAssertNil(ProcFS.entries("/proc/no-such-directory"))
        XCTAssertEqual(ProcFS.contents("/proc/self/cmdline", limit: 3)?.utf8.count, 3, "at most the limit")
    }

    func testReadingAnEmptyFileOftenKeepsNoMemory() {
        let path = "/proc/\(getpid())/task/\(getpid())/children"
        for _ in 0..<1_000 { _ = ProcFS.contents(path) }
        let before = residentPages()
        for _ in 0..<20_000 { _ = ProcFS.contents(path) }
        let grown = (residentPages() - before) * Int(sysconf(Int32(_SC_PAGESIZE)))
        // Foundation's reader grew by about 80 MiB here; a read that keeps nothing, by none.
        XCTAssertLessThan(grown, 8 << 20, "\(grown >> 10) KiB kept by 20,000 reads")
    }
}
