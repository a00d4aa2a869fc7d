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
        return plugin
    }
}

@_cdecl("convene_plugin_entry")
public func convenePluginEntry(_ api: UnsafePointer<convene_host_api>?, _ host: OpaquePointer?,
                               _ out: UnsafeMutablePointer<UnsafePointer<convene_plugin_descriptor>?>?,
                               _ error: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> Int32 {
    ConvenePluginSDK.start(api, host, out, error) { Versioned.definition }
}
