import ConveneMessages
import ConveneProtos
import Foundation
import SwiftProtobuf
import XCTest

/// The committed generated code is what the protos make: the descriptor set the server reflects
/// and the service code of protoc-gen-convene. (`make check-protos`, run by `make test`, compares
/// every generated file, the swift-protobuf and protobuf-c output included.)
final class GeneratedCodeTests: XCTestCase {
    /// The package's folder, from this file's path.
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// The built executables (protoc-gen-convene among them), beside the test bundle.
    let bin = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()

    func run(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.currentDirectoryURL = root
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        process.waitUntilExit()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw Failure("\(arguments.joined(separator: " ")) failed (make deps installs protoc): \(message)")
        }
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// The protos, relative to Protos/ (as protoc names them), sorted.
    var protos: [String] {
        let files = FileManager.default.enumerator(atPath: root.appendingPathComponent("Protos").path)?.compactMap { $0 as? String } ?? []
        return files.filter { $0.hasSuffix(".proto") }.sorted()
    }

    func testTheEmbeddedDescriptorSetIsWhatTheProtosMake() throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("convene-descriptors-\(UUID().uuidString).pb")
        defer { try? FileManager.default.removeItem(at: output) }
        try run(["protoc", "-I", "Protos", "-I", "/usr/include", "--include_imports", "--descriptor_set_out=\(output.path)"] + protos)
        let fromProtos = try Google_Protobuf_FileDescriptorSet(serializedBytes: Data(contentsOf: output))
        let embedded = try Google_Protobuf_FileDescriptorSet(serializedBytes: ConveneDescriptorSet.bytes)
        XCTAssertEqual(embedded.file.map(\.name), fromProtos.file.map(\.name))
        for (committed, fresh) in zip(embedded.file, fromProtos.file) {
            XCTAssertEqual(committed, fresh, "\(fresh.name) changed since make protos")
        }
    }

    func testTheServiceCodeIsWhatTheGeneratorMakes() throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("convene-services-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        try run(["scripts/generate-protos.sh", output.path, bin.path, "services"])
        for folder in ["Sources/ConveneProtos/Generated", "Sources/ConveneClient/Generated"] {
            let fresh = try FileManager.default.contentsOfDirectory(atPath: output.appendingPathComponent(folder).path).sorted()
            let committed = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(folder).path).sorted()
            XCTAssertEqual(committed, fresh, "the files of \(folder)")
            for name in fresh {
                let generated = try String(contentsOf: output.appendingPathComponent(folder + "/" + name), encoding: .utf8)
                let kept = try? String(contentsOf: root.appendingPathComponent(folder + "/" + name), encoding: .utf8)
                XCTAssertEqual(kept, generated, "\(folder)/\(name) is not what make protos writes")
            }
        }
    }

    /// A Swift plugin hands the server its proto and the files it imports, imports first.
    func testAPluginsDescriptorSetIsItsFileWithItsImports() throws {
        let set = try Google_Protobuf_FileDescriptorSet(
            serializedBytes: ConveneDescriptorSet.fileSet(for: "convene/assessment/v1/assessment.proto"))
        XCTAssertEqual(set.file.map(\.name), ["google/protobuf/timestamp.proto", "convene/assessment/v1/assessment.proto"])
        XCTAssertEqual(set.file.last?.service.first?.name, "FollowUpAssessment")
        XCTAssertEqual(ConveneDescriptorSet.fileSet(for: "no/such.proto"), [])
    }

    /// Every method a proto declares has its descriptor, with the proto's kind and types.
    func testTheDescriptorsAreTheProtos() throws {
        let set = try Google_Protobuf_FileDescriptorSet(serializedBytes: ConveneDescriptorSet.bytes)
        let generated = Dictionary(uniqueKeysWithValues: (ConsultationMethods.all + BriefingMethods.all + LessonsMethods.all
            + AdministrationMethods.all + HealthMethods.all + ReflectionMethods.all + BenchmarkMethods.all + TestServiceMethods.all
            + PluginAdministrationMethods.all + TrainingCentresMethods.all + GroupsOfFriendsMethods.all).map { ($0.path, $0) })
        var checked = 0
        for file in set.file {
            for service in file.service {
                for method in service.method {
                    guard let descriptor = generated["/\(file.package).\(service.name)/\(method.name)"] else { continue }
                    XCTAssertEqual(descriptor.inputType, String(method.inputType.dropFirst()))
                    XCTAssertEqual(descriptor.outputType, String(method.outputType.dropFirst()))
                    XCTAssertEqual(descriptor.kind.clientStreams, method.clientStreaming)
                    XCTAssertEqual(descriptor.kind.serverStreams, method.serverStreaming)
                    checked += 1
                }
            }
        }
        XCTAssertEqual(checked, generated.count, "every generated descriptor has its method in the protos")
    }
}
