import ConveneBuiltins
import SwiftProtobuf
import XCTest

/// What plugins bring to reflection never redefines what the server (or a plugin before)
/// defined: a symbol stays with the file that defined it first.
final class DescriptorRegistryTests: XCTestCase {
    private func file(_ name: String, message: String, service: String) -> Google_Protobuf_FileDescriptorProto {
        .with {
            $0.name = name
            $0.package = "pkg"
            $0.messageType = [.with { $0.name = message }]
            $0.service = [.with { $0.name = service; $0.method = [.with { $0.name = "Call" }] }]
        }
    }

    func testAPluginsFileCannotRedefineASymbolAnotherFileDefined() throws {
        let registry = DescriptorRegistry()
        try registry.add(fileDescriptorSet: Google_Protobuf_FileDescriptorSet.with {
            $0.file = [file("server.proto", message: "Meeting", service: "Consultation")]
        }.serializedBytes())
        // Another file defining the same message and service, and one of its own.
        try registry.add(fileDescriptorSet: Google_Protobuf_FileDescriptorSet.with {
            $0.file = [file("plugin.proto", message: "Meeting", service: "Consultation"),
                       file("plugin-own.proto", message: "Mine", service: "Plugin")]
        }.serializedBytes())
        XCTAssertEqual(registry.fileName(containing: "pkg.Meeting"), "server.proto")
        XCTAssertEqual(registry.fileName(containing: "pkg.Consultation"), "server.proto")
        XCTAssertEqual(registry.fileName(containing: "pkg.Consultation.Call"), "server.proto")
        XCTAssertEqual(registry.fileName(containing: "pkg.Mine"), "plugin-own.proto")
        XCTAssertEqual(registry.fileName(containing: "pkg.Plugin.Call"), "plugin-own.proto")
    }
}
