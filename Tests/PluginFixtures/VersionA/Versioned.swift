// Fixture: the plugin "versioned", in two builds of this one file (VersionB/ links here and
// builds with BUILD_B). They answer Which differently; the test puts one at a path, loads it,
// puts the other at the same path and reloads.
import ConvenePluginSDK
import SwiftProtobuf

#if BUILD_B
let build = "B"
#else
let build = "A"
#endif

enum Versioned {
    static var definition: PluginDefinition {
        var plugin = PluginDefinition(name: "versioned", version: build, service: "test.Versioned")
        plugin.unary("Which") { (_: Google_Protobuf_Empty, _) -> Google_Protobuf_StringValue in .with { $0.value = "build \(build)" } }
        // A write the host takes, then one over its value limit: the second throws, and the call
        // (answered with the error) commits neither.
        plugin.unary("Overfill") { (_: Google_Protobuf_Empty, context) -> Google_Protobuf_Empty in
            try context.put("k/small", [1])
            try context.put("k/large", [UInt8](repeating: 0, count: (16 << 20) + 1))
            return Google_Protobuf_Empty()
        }
        plugin.unary("Keys") { (_: Google_Protobuf_Empty, context) -> Google_Protobuf_StringValue in
            .with { $0.value = context.keys(prefix: "k/").joined(separator: ",") }
        }
        // An event of the server's own kind, which the host refuses to emit.
        plugin.unary("Impersonate") { (request: Google_Protobuf_StringValue, context) -> Google_Protobuf_Empty in
            try context.emit(operation: request.value, kind: "meeting.convened", "a meeting that was never convened")
            return Google_Protobuf_Empty()
        }
        return plugin
    }
}

@_cdecl("convene_plugin_entry")
public func convenePluginEntry(_ api: UnsafePointer<convene_host_api>?, _ host: OpaquePointer?,
                               _ out: UnsafeMutablePointer<UnsafePointer<convene_plugin_descriptor>?>?,
                               _ error: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> Int32 {
    ConvenePluginSDK.start(api, host, out, error) { Versioned.definition }
}
