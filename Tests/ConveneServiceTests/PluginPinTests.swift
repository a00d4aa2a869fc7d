@testable import ConvenePluginHost
import Foundation
import XCTest

/// The private copy a library is loaded from (`PluginLibrary.pin`) and what is read of it to
/// tell whether it holds Swift code (`ELFSections`), on the libraries built with the server.
final class PluginPinTests: XCTestCase {
    let built = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    var pins: URL!

    override func setUp() {
        pins = FileManager.default.temporaryDirectory.appendingPathComponent("convene-pins-\(UUID().uuidString)")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: pins)
    }

    func library(_ name: String) -> String { built.appendingPathComponent("lib\(name).so").path }

    /// A library of plain C, as a plugin's own build makes one (SwiftPM's link of any product
    /// adds Swift's sections, so the libraries built with the server all have them).
    func plainC() throws -> String {
        try FileManager.default.createDirectory(at: pins, withIntermediateDirectories: true)
        let source = pins.appendingPathComponent("plain.c"), output = pins.appendingPathComponent("libplain.so")
        try "int convene_plain(void) { return 1; }\n".write(to: source, atomically: true, encoding: .utf8)
        let cc = Process()
        cc.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        cc.arguments = ["cc", "-shared", "-fPIC", "-o", output.path, source.path]
        try cc.run()
        cc.waitUntilExit()
        XCTAssertEqual(cc.terminationStatus, 0, "cc builds a shared library")
        return output.path
    }

    func testTheCopyIsTheLibraryByteForByteAndSaysWhetherItHoldsSwift() throws {
        for (path, swift) in [(library("ConvenePlugin_Training"), true), (try plainC(), false)] {
            let (copy, containsSwift) = try PluginLibrary.pin(path, into: pins.appendingPathComponent("copies").path)
            XCTAssertEqual(containsSwift, swift, path)
            XCTAssertTrue(copy.hasPrefix(pins.path + "/copies/"), copy)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: copy)), try Data(contentsOf: URL(fileURLWithPath: path)), path)
            let mode = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: copy)[.posixPermissions] as? Int)
            XCTAssertEqual(mode & 0o077, 0, "the copy is its owner's only")
        }
    }

    /// The kernel's copy and the buffered one (for file systems without `sendfile`) copy the
    /// same bytes, in pieces smaller than the file too, and stop where the source ends.
    func testBothWaysOfCopyingCopyEveryByteAndStopAtTheSourcesEnd() throws {
        try FileManager.default.createDirectory(at: pins, withIntermediateDirectories: true)
        let bytes = Data((0..<300_001).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        let sourcePath = pins.appendingPathComponent("source").path
        XCTAssertTrue(FileManager.default.createFile(atPath: sourcePath, contents: bytes))
        for (kernel, bufferSize) in [(true, 1 << 20), (false, 1 << 20), (false, 4096), (false, 7)] {
            for asked in [bytes.count, bytes.count + 10_000, 1_000] {
                let source = open(sourcePath, O_RDONLY), targetPath = pins.appendingPathComponent("target-\(kernel)-\(bufferSize)-\(asked)").path
                let target = open(targetPath, O_RDWR | O_CREAT | O_EXCL, 0o600)
                let outcome = FileCopy.copy(from: source, to: target, count: asked, bufferSize: bufferSize, kernel: kernel)
                close(source)
                close(target)
                let expected = min(asked, bytes.count)
                XCTAssertEqual(outcome, .copied(expected), "kernel \(kernel), buffer \(bufferSize), asked \(asked)")
                XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: targetPath)), bytes.prefix(expected),
                               "kernel \(kernel), buffer \(bufferSize), asked \(asked)")
            }
        }
        // A descriptor that cannot be read from fails with the reason, not a short copy.
        let target = open(pins.appendingPathComponent("target-bad").path, O_RDWR | O_CREAT | O_EXCL, 0o600)
        defer { close(target) }
        XCTAssertEqual(FileCopy.copy(from: -1, to: target, count: 10, kernel: false), .failed(errno: EBADF))
        XCTAssertEqual(FileCopy.copy(from: -1, to: target, count: 10, kernel: true), .failed(errno: EBADF))
    }

    func testASymlinkAFolderAndAnEmptyFileAreRefusedOrNotSwift() throws {
        try FileManager.default.createDirectory(at: pins, withIntermediateDirectories: true)
        let link = pins.appendingPathComponent("link.so").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: library("ConvenePlugin_Friends"))
        XCTAssertThrowsError(try PluginLibrary.pin(link, into: pins.path)) { XCTAssertTrue("\($0)".contains("cannot read the file"), "\($0)") }
        XCTAssertThrowsError(try PluginLibrary.pin(pins.path, into: pins.path)) { XCTAssertTrue("\($0)".contains("not a regular file"), "\($0)") }
        let empty = pins.appendingPathComponent("empty.so").path
        XCTAssertTrue(FileManager.default.createFile(atPath: empty, contents: Data()))
        XCTAssertFalse(try PluginLibrary.pin(empty, into: pins.appendingPathComponent("copies").path).1)
    }

    /// Cut anywhere, or with any byte of its header and section table changed, a library's
    /// sections are read within the file or not at all: never past it, never a trap.
    func testACutOrCorruptLibraryIsReadWithinItsBounds() throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: library("ConvenePlugin_Friends"))))
        func names(_ file: [UInt8]) -> [String] {
            ELFSections.names(size: file.count) { offset, count in
                XCTAssertTrue(offset >= 0 && count >= 0 && offset <= file.count - count, "read \(offset)+\(count) of \(file.count)")
                guard offset >= 0, count >= 0, offset <= file.count - count else { return nil }
                return Array(file[offset..<offset + count])
            }
        }
        let whole = names(bytes)
        XCTAssertTrue(whole.contains(".text") && whole.contains(".shstrtab"), "\(whole)")
        for cut in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 300)) { _ = names(Array(bytes[..<cut])) }
        let tableOffset = bytes.withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: 0x28, as: UInt64.self))) }
        var generator = SystemRandomNumberGenerator()
        for round in 0..<2_000 {
            var file = bytes
            let at = round % 2 == 0 ? Int.random(in: 0..<64, using: &generator)
                                    : Int.random(in: tableOffset..<file.count, using: &generator)
            file[at] = UInt8.random(in: 0...255, using: &generator)
            _ = names(file)
        }
    }
}
