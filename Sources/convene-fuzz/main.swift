// convene-fuzz: the libFuzzer targets (`make fuzz`), or, built without FUZZING, a replay of
// corpus files through every target (what the regression test does in process).
import ConveneFuzzTargets
import Foundation

#if FUZZING
import CLibFuzzer

let targetName = ProcessInfo.processInfo.environment["CONVENE_FUZZ_TARGET"] ?? "frames"
guard let target = FuzzTargets.all.first(where: { $0.name == targetName }) else {
    FileHandle.standardError.write(Data("unknown target \(targetName); one of \(FuzzTargets.all.map(\.name))\n".utf8))
    exit(2)
}
nonisolated(unsafe) let selected = target.run
var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
    selected(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
})
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
