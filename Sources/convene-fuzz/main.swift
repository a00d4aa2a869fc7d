// convene-fuzz: the libFuzzer targets (`make fuzz`), or, built without FUZZING, a replay of
// corpus files through every target (what the regression test does in process).
import ConveneFuzzTargets
import Foundation

#if FUZZING
/// Built with -sanitize=fuzzer, libFuzzer's own main drives this; the target is chosen by
/// CONVENE_FUZZ_TARGET (frames, decompression, connection, fields, plugin).
enum FuzzRunner {
    static let target: @Sendable ([UInt8]) -> Void = {
        let name = ProcessInfo.processInfo.environment["CONVENE_FUZZ_TARGET"] ?? "frames"
        guard let target = FuzzTargets.all.first(where: { $0.name == name }) else {
            fatalError("unknown CONVENE_FUZZ_TARGET \(name); one of \(FuzzTargets.all.map(\.name))")
        }
        return target.run
    }()
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    FuzzRunner.target(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}

// When this file's main runs (rather than libFuzzer's), it hands control to libFuzzer's driver.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOneInput(data, size) })
#else
for path in CommandLine.arguments.dropFirst() {
    let files = (try? FileManager.default.contentsOfDirectory(atPath: path).map { path + "/" + $0 }) ?? [path]
    for file in files {
        guard let data = FileManager.default.contents(atPath: file) else { continue }
        for target in FuzzTargets.all { target.run(Array(data)) }
    }
    print("replayed \(files.count) inputs from \(path)")
}
#endif
