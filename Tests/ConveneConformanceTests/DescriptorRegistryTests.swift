import ConveneBuiltins
import Foundation
import SwiftProtobuf
import XCTest

/// What plugins bring to reflection never redefines what the server defined, never decides
/// how another plugin's calls are encoded, and goes with its plugin.
final class DescriptorRegistryTests: XCTestCase {
    private func file(_ name: String, package: String = "pkg", message: String, fields: [(String, Int32)] = [],
                      service: String) -> Google_Protobuf_FileDescriptorProto {
        .with {
            $0.name = name
            $0.package = package
            $0.messageType = [.with { type in
                type.name = message
                type.field = fields.map { field in .with { $0.name = field.0; $0.number = field.1; $0.type = .string } }
            }]
            $0.service = [.with { $0.name = service; $0.method = [.with { $0.name = "Call" }] }]
        }
    }

    private func set(_ files: Google_Protobuf_FileDescriptorProto...) throws -> [UInt8] {
        try Google_Protobuf_FileDescriptorSet.with { $0.file = files }.serializedBytes()
    }

    private func numbers(_ files: [Google_Protobuf_FileDescriptorProto]?) -> [String: Int32] {
        Dictionary(uniqueKeysWithValues: files?.first?.messageType.first?.field.map { ($0.name, $0.number) } ?? [])
    }

    /// Reflection answers with each file's bytes serialized once, when it was added: they are
    /// the bytes of the very files the rules above choose, whoever asks and however.
    func testTheBytesReflectionServesAreThoseOfTheFilesChosen() throws {
        let registry = DescriptorRegistry()
        try registry.add(fileDescriptorSet: set(file("server.proto", message: "Meeting", service: "Consultation")))
        try registry.add(fileDescriptorSet: set(file("victim/v1/victim.proto", package: "victim.v1", message: "Transfer",
                                                     fields: [("from", 2), ("to", 1)], service: "Victim"),
                                                file("server.proto", message: "Meeting", fields: [("forged", 1)], service: "Consultation")),
                         plugin: "aaa-squat", service: "squat.v1.Squat")
        try registry.add(fileDescriptorSet: set(file("victim/v1/victim.proto", package: "victim.v1", message: "Transfer",
                                                     fields: [("from", 1), ("to", 2)], service: "Victim")),
                         plugin: "victim", service: "victim.v1.Victim")
        func decoded(_ files: [Data]?) throws -> [Google_Protobuf_FileDescriptorProto]? {
            try files.map { try $0.map { try Google_Protobuf_FileDescriptorProto(serializedBytes: $0) } }
        }
        for symbol in ["victim.v1.Victim", "victim.v1.Victim.Call", "victim.v1.Transfer", "pkg.Meeting", "no.Such"] {
            XCTAssertEqual(try decoded(registry.encodedFiles(containing: symbol)), registry.files(containing: symbol), symbol)
        }
        for name in ["victim/v1/victim.proto", "server.proto", "none.proto"] {
            XCTAssertEqual(try decoded(registry.encodedFileWithDependencies(name)), registry.fileWithDependencies(name), name)
        }
        XCTAssertEqual(numbers(try decoded(registry.encodedFiles(containing: "victim.v1.Transfer"))), ["from": 1, "to": 2])
        registry.remove(plugin: "victim")
        XCTAssertNil(registry.encodedFiles(containing: "victim.v1.Victim"))
    }

    func testAPluginsFileCannotRedefineASymbolTheServerDefined() throws {
        let registry = DescriptorRegistry()
        try registry.add(fileDescriptorSet: set(file("server.proto", message: "Meeting", service: "Consultation")))
        // Another file defining the same message and service, and one of its own.
        try registry.add(fileDescriptorSet: set(file("plugin.proto", message: "Meeting", service: "Consultation"),
                                                file("plugin-own.proto", message: "Mine", service: "Plugin")),
                         plugin: "p", service: "pkg.Plugin")
        XCTAssertEqual(registry.fileName(containing: "pkg.Meeting"), "server.proto")
        XCTAssertEqual(registry.fileName(containing: "pkg.Consultation"), "server.proto")
        XCTAssertEqual(registry.fileName(containing: "pkg.Consultation.Call"), "server.proto")
        XCTAssertEqual(registry.fileName(containing: "pkg.Mine"), "plugin-own.proto")
        XCTAssertEqual(registry.fileName(containing: "pkg.Plugin.Call"), "plugin-own.proto")
        // A file of the server's name is the server's, in whoever's set it is named.
        try registry.add(fileDescriptorSet: set(file("server.proto", message: "Meeting", fields: [("forged", 1)], service: "Consultation")),
                         plugin: "q", service: "pkg.Q")
        XCTAssertEqual(numbers(registry.fileWithDependencies("server.proto")), [:])
    }

    /// A plugin loaded first names its file as another's and swaps its field numbers: the
    /// other's service, and the types in its package, still come from the other's own set,
    /// whose encoding a client that encodes from reflection then uses.
    func testAPluginCannotSpeakForAnotherPluginsServiceOrTypes() throws {
        let registry = DescriptorRegistry()
        try registry.add(fileDescriptorSet: set(file("victim/v1/victim.proto", package: "victim.v1", message: "Transfer",
                                                     fields: [("from", 2), ("to", 1)], service: "Victim")),
                         plugin: "aaa-squat", service: "squat.v1.Squat")
        try registry.add(fileDescriptorSet: set(file("victim/v1/victim.proto", package: "victim.v1", message: "Transfer",
                                                     fields: [("from", 1), ("to", 2)], service: "Victim")),
                         plugin: "victim", service: "victim.v1.Victim")
        XCTAssertEqual(numbers(registry.files(containing: "victim.v1.Victim")), ["from": 1, "to": 2])
        XCTAssertEqual(numbers(registry.files(containing: "victim.v1.Victim.Call")), ["from": 1, "to": 2])
        XCTAssertEqual(numbers(registry.files(containing: "victim.v1.Transfer")), ["from": 1, "to": 2])
        XCTAssertNotNil(registry.service(named: "victim.v1.Victim"))
        // One serving a shorter package ("victim.") loaded before still does not describe them.
        try registry.add(fileDescriptorSet: set(file("aaa/squat.proto", package: "victim", message: "Squat", service: "Squat"),
                                                file("aaa/v1.proto", package: "victim.v1", message: "Transfer",
                                                     fields: [("from", 2), ("to", 1)], service: "Other")),
                         plugin: "aaa-prefix", service: "victim.Squat")
        registry.remove(plugin: "victim")
        try registry.add(fileDescriptorSet: set(file("victim/v1/victim.proto", package: "victim.v1", message: "Transfer",
                                                     fields: [("from", 1), ("to", 2)], service: "Victim")),
                         plugin: "victim", service: "victim.v1.Victim")
        XCTAssertEqual(numbers(registry.files(containing: "victim.v1.Transfer")), ["from": 1, "to": 2], "the longest package first")
        registry.remove(plugin: "aaa-prefix")
        // Unloaded, the victim's service is described by nobody (the squatter never claimed it).
        registry.remove(plugin: "victim")
        XCTAssertNil(registry.files(containing: "victim.v1.Victim"))
        XCTAssertNil(registry.service(named: "victim.v1.Victim"))
    }

    /// A reload's set replaces the plugin's old one; an unloaded plugin's set is gone.
    func testAPluginsSetGoesWithIt() throws {
        let registry = DescriptorRegistry()
        try registry.add(fileDescriptorSet: set(file("v/v.proto", package: "v", message: "M", fields: [("a", 1)], service: "V")),
                         plugin: "v", service: "v.V")
        try registry.add(fileDescriptorSet: set(file("v/v.proto", package: "v", message: "M", fields: [("a", 1), ("amount", 3)],
                                                     service: "V")),
                         plugin: "v", service: "v.V")
        XCTAssertEqual(numbers(registry.files(containing: "v.M")), ["a": 1, "amount": 3])
        XCTAssertEqual(numbers(registry.fileWithDependencies("v/v.proto")), ["a": 1, "amount": 3])
        registry.remove(plugin: "v")
        XCTAssertNil(registry.files(containing: "v.M"))
        XCTAssertNil(registry.fileWithDependencies("v/v.proto"))
    }
}
