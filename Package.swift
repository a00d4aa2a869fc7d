// swift-tools-version:6.1
import PackageDescription
import Foundation

/// The package's folder, for linker scripts (linker flags take absolute paths).
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path

/// The mechanism plugins built with the server, one line each in Plugins/plugins.list (which
/// `make protos` reads too): product suffix, folder, language (c or swift).
let plugins: [(name: String, folder: String, language: String)] = {
    guard let list = try? String(contentsOfFile: "\(root)/Plugins/plugins.list", encoding: .utf8) else {
        fatalError("cannot read Plugins/plugins.list")
    }
    return list.split(separator: "\n").filter { !$0.hasPrefix("#") }
        .map { $0.split(separator: " ").map(String.init) }.filter { $0.count >= 3 }
        .map { ($0[0], $0[1], $0[2]) }
}()

/// A mechanism plugin written in C with protobuf-c, reading the service messages of ConvenePluginProtos.
func cPlugin(_ name: String, folder: String) -> Target {
    .target(name: "ConvenePlugin_\(name)", dependencies: ["ConvenePluginABI", "ConvenePluginProtos"], path: "Plugins/\(folder)",
            publicHeadersPath: "gen",
            cSettings: [.headerSearchPath("gen"), .headerSearchPath("../common/util"), .unsafeFlags(["-fvisibility=hidden"])],
            linkerSettings: [.linkedLibrary("protobuf-c")])
}

/// A mechanism plugin written in Swift with the SDK, with the shared messages (and the domain rules, ConveneDomain,
/// for plugins that reuse them) linked in as SwiftProtobuf
/// is. The version script keeps its exports to the entry symbol (not its own copies of those modules).
func swiftPlugin(_ name: String, folder: String) -> Target {
    .target(name: "ConvenePlugin_\(name)",
            dependencies: ["ConvenePluginSDK", "ConveneMessages", "ConveneDomain", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            path: "Plugins/\(folder)",
            linkerSettings: [.unsafeFlags(["-Xlinker", "--version-script=\(root)/Plugins/exports.map"])])
}

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// The protocol's hot path (frames, connections, the router, plugin calls): release builds
/// skip the run-time exclusivity checks, which cost about 6 % of a unary call's CPU in a
/// profile (each mutation of a connection's state through its handler is checked), and
/// about 7 % of an isolated plugin runner's. Debug builds, which every test runs, keep
/// them, so an overlapping access still traps there.
let hotPath: [SwiftSetting] = strict + [
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "Convene",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "convened", targets: ["convened"]),
        .executable(name: "convene", targets: ["convene"]),
        .executable(name: "convene-plugin-runner", targets: ["convene-plugin-runner"]),
        .library(name: "ConveneClient", targets: ["ConveneClient"]),
        .library(name: "ConveneServer", targets: ["ConveneServer"]),
        .library(name: "ConveneTesting", targets: ["ConveneTesting"]),
        // The layers on their own, for the micro benchmarks in Benchmarks/ (a package of its own).
        .library(name: "ConveneWire", targets: ["ConveneWire"]),
        .library(name: "ConveneRPC", targets: ["ConveneRPC"]),
        .library(name: "ConveneTransport", targets: ["ConveneTransport"]),
        .library(name: "ConvenePluginHost", targets: ["ConvenePluginHost"]),
        // The plugin template of Docs/PLUGINS.md (built so it keeps compiling; not loaded by default).
        .library(name: "ConveneTemplatePlugin", type: .dynamic, targets: ["ConveneTemplatePlugin"]),
        // Test fixtures: one small broken plugin per failure the loader reports.
        .library(name: "ConveneFixture_NoEntry", type: .dynamic, targets: ["ConveneFixture_NoEntry"]),
        .library(name: "ConveneFixture_WrongMajor", type: .dynamic, targets: ["ConveneFixture_WrongMajor"]),
        .library(name: "ConveneFixture_FailingInit", type: .dynamic, targets: ["ConveneFixture_FailingInit"]),
        .library(name: "ConveneFixture_Duplicate", type: .dynamic, targets: ["ConveneFixture_Duplicate"]),
        .library(name: "ConveneFixture_Behaviour", type: .dynamic, targets: ["ConveneFixture_Behaviour"]),
        .library(name: "ConveneFixture_Faults", type: .dynamic, targets: ["ConveneFixture_Faults"]),
        .library(name: "ConveneFixture_NewerMinor", type: .dynamic, targets: ["ConveneFixture_NewerMinor"]),
        .library(name: "ConveneFixture_CrashingEntry", type: .dynamic, targets: ["ConveneFixture_CrashingEntry"]),
        .library(name: "ConveneFixture_Recorder", type: .dynamic, targets: ["ConveneFixture_Recorder"]),
        .library(name: "ConveneFixture_VersionA", type: .dynamic, targets: ["ConveneFixture_VersionA"]),
        .library(name: "ConveneFixture_VersionB", type: .dynamic, targets: ["ConveneFixture_VersionB"]),
    ] + plugins.map { .library(name: "ConvenePlugin_\($0.name)", type: .dynamic, targets: ["ConvenePlugin_\($0.name)"]) },
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-http2.git", from: "1.46.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        // W3C trace context, for the tracing tests' tracer (test targets only).
        .package(url: "https://github.com/swift-otel/swift-w3c-trace-context.git", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        // The PostgreSQL store, for several servers on one database.
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        // Property-based tests of the resolution's rules (test targets only).
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
    ],
    targets: [
        // zlib, found through pkg-config (zlib1g-dev).
        .systemLibrary(name: "CConveneZlib", path: "Sources/CConveneZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),

        // wire: frame layout, encode/decode, limits, compression. No sockets, no services.
        .target(name: "ConveneWire",
                dependencies: [.product(name: "NIOCore", package: "swift-nio"),
                               .product(name: "NIOConcurrencyHelpers", package: "swift-nio"), "CConveneZlib"],
                swiftSettings: hotPath),
        // RPC core: status codes, metadata, method descriptors, router, call contexts. No NIO channels.
        .target(name: "ConveneRPC",
                dependencies: ["ConveneWire", .product(name: "NIOCore", package: "swift-nio"),
                               .product(name: "NIOConcurrencyHelpers", package: "swift-nio")],
                swiftSettings: hotPath),
        // Typed protobuf coding on top of the RPC core.
        .target(name: "ConveneProtobuf",
                dependencies: ["ConveneRPC", .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                               .product(name: "NIOCore", package: "swift-nio")],
                swiftSettings: strict),
        // The messages of every proto in Protos/ and their descriptor set (make protos), on SwiftProtobuf
        // alone: shared by the server, the client and the Swift plugins.
        .target(name: "ConveneMessages", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        // The services of Protos/ (make protos, protoc-gen-convene): method descriptors, a protocol per
        // service and its registration in the router. Re-exports the messages.
        .target(name: "ConveneProtos",
                dependencies: ["ConveneMessages", "ConveneRPC", "ConveneProtobuf",
                               .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                               .product(name: "NIOCore", package: "swift-nio")],
                exclude: ["README.md"]),
        // The generator of ConveneProtos' services and of ConveneClient's stubs, a protoc plugin.
        .executableTarget(name: "protoc-gen-convene",
                          dependencies: [.product(name: "SwiftProtobufPluginLibrary", package: "swift-protobuf")]),
        // transport: NIO server and client connections, multiplexing, flow control, keepalive, drain.
        .target(name: "ConveneTransport",
                dependencies: [
                    "ConveneWire", "ConveneRPC",
                    .product(name: "NIOCore", package: "swift-nio"),
                    .product(name: "NIOPosix", package: "swift-nio"),
                    .product(name: "NIOSSL", package: "swift-nio-ssl"),
                    .product(name: "NIOTLS", package: "swift-nio"),
                    .product(name: "Logging", package: "swift-log"),
                ],
                swiftSettings: hotPath),
        // transport: standard gRPC over HTTP/2 (swift-nio-http2), serving the same router.
        .target(name: "ConveneGRPCTransport",
                dependencies: [
                    "ConveneWire", "ConveneRPC", "ConveneTransport",
                    .product(name: "NIOCore", package: "swift-nio"),
                    .product(name: "NIOPosix", package: "swift-nio"),
                    .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                    .product(name: "NIOHPACK", package: "swift-nio-http2"),
                    .product(name: "NIOSSL", package: "swift-nio-ssl"),
                    .product(name: "Logging", package: "swift-log"),
                ],
                swiftSettings: hotPath),
        // operations: metrics (swift-metrics, Prometheus), tracing, the status page and its HTTP endpoint.
        .target(name: "ConveneOperations",
                dependencies: ["ConveneRPC",
                               .product(name: "CoreMetrics", package: "swift-metrics"),
                               .product(name: "Prometheus", package: "swift-prometheus"),
                               .product(name: "Tracing", package: "swift-distributed-tracing"),
                               .product(name: "NIOCore", package: "swift-nio"),
                               .product(name: "NIOPosix", package: "swift-nio"),
                               .product(name: "NIOHTTP1", package: "swift-nio"),
                               .product(name: "Logging", package: "swift-log")],
                swiftSettings: strict),
        // Built-in services: health, reflection, benchmark, interop.
        .target(name: "ConveneBuiltins",
                dependencies: ["ConveneRPC", "ConveneProtobuf", "ConveneProtos",
                               .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                               .product(name: "NIOCore", package: "swift-nio")],
                swiftSettings: strict),
        // domain: the rules of resolution 1353 as plain values and functions. No NIO, no SQL.
        .target(name: "ConveneDomain", swiftSettings: strict),
        // store: durable state behind an interface; SQLite (GRDB, WAL) embedded by default.
        .target(name: "ConveneStore",
                dependencies: ["ConveneDomain", .product(name: "GRDB", package: "GRDB.swift"),
                               .product(name: "Crypto", package: "swift-crypto"),
                               .product(name: "NIOConcurrencyHelpers", package: "swift-nio")],
                swiftSettings: strict),
        // store on PostgreSQL (postgres-nio): the same protocol, for several servers sharing one database.
        .target(name: "ConvenePostgresStore",
                dependencies: ["ConveneStore", "ConveneDomain",
                               .product(name: "PostgresNIO", package: "postgres-nio"),
                               .product(name: "NIOCore", package: "swift-nio"),
                               .product(name: "NIOPosix", package: "swift-nio"),
                               .product(name: "NIOSSL", package: "swift-nio-ssl"),
                               .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                               .product(name: "Logging", package: "swift-log")],
                swiftSettings: strict),
        // services: consultation, briefing, lessons learned and administration handlers.
        .target(name: "ConveneServices",
                dependencies: ["ConveneDomain", "ConveneStore", "ConveneRPC", "ConveneProtobuf", "ConveneProtos",
                               .product(name: "Crypto", package: "swift-crypto"),
                               .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                               .product(name: "NIOCore", package: "swift-nio"),
                               .product(name: "Logging", package: "swift-log")],
                swiftSettings: strict),
        // The plugin ABI: one C header, Plugins/include/convene_plugin.h.
        .target(name: "ConvenePluginABI", path: "Plugins", sources: ["abi"], publicHeadersPath: "include"),
        // Starting a plugin runner process (posix_spawn with the descriptors it must have).
        .target(name: "CConvenePluginSpawn"),
        // the Landlock sandbox an isolated plugin's runner puts itself in.
        .target(name: "CConvenePluginSandbox"),
        // plugin host: dlopen, the ABI handshake, the host function table, plugin calls off the event loop,
        // in the server's process or in runner processes.
        .target(name: "ConvenePluginHost",
                dependencies: ["ConvenePluginABI", "ConveneRPC", "CConvenePluginSpawn", "CConvenePluginSandbox",
                               .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                               .product(name: "NIOCore", package: "swift-nio"),
                               .product(name: "NIOPosix", package: "swift-nio"),
                               .product(name: "Logging", package: "swift-log")],
                swiftSettings: hotPath),
        // protobuf-c code of the service messages C plugins read (events, meetings, operations).
        .target(name: "ConvenePluginProtos", path: "Plugins/common", exclude: ["README", "util"], publicHeadersPath: "gen",
                cSettings: [.unsafeFlags(["-fvisibility=hidden"])],
                linkerSettings: [.linkedLibrary("protobuf-c")]),
        .target(name: "ConveneTemplatePlugin", dependencies: ["ConvenePluginABI"], path: "Plugins/template",
                exclude: ["example.proto"], publicHeadersPath: ".", cSettings: [.unsafeFlags(["-fvisibility=hidden"])]),
        // Plugin fixtures for the loader's tests.
        .target(name: "ConveneFixture_NoEntry", dependencies: ["ConvenePluginABI"], path: "Tests/PluginFixtures/NoEntry",
                publicHeadersPath: ".", cSettings: [.unsafeFlags(["-fvisibility=hidden"])]),
        .target(name: "ConveneFixture_WrongMajor", dependencies: ["ConvenePluginABI"], path: "Tests/PluginFixtures/WrongMajor",
                publicHeadersPath: ".", cSettings: [.unsafeFlags(["-fvisibility=hidden"])]),
        .target(name: "ConveneFixture_FailingInit", dependencies: ["ConvenePluginABI"], path: "Tests/PluginFixtures/FailingInit",
                publicHeadersPath: ".", cSettings: [.unsafeFlags(["-fvisibility=hidden"])]),
        .target(name: "ConveneFixture_Duplicate", dependencies: ["ConvenePluginABI"], path: "Tests/PluginFixtures/Duplicate",
                publicHeadersPath: ".", cSettings: [.unsafeFlags(["-fvisibility=hidden"])]),
        .target(name: "ConveneFixture_Behaviour", dependencies: ["ConvenePluginABI"], path: "Tests/PluginFixtures/Behaviour",
                publicHeadersPath: ".", cSettings: [.unsafeFlags(["-fvisibility=hidden"])]),
        // One fault per method (crash, abort, leak, hang, bad status, bad response, stale handle).
        .target(name: "ConveneFixture_Faults", dependencies: ["ConvenePluginABI"], path: "Tests/PluginFixtures/Faults",
                exclude: ["faults.proto"], publicHeadersPath: ".", cSettings: [.unsafeFlags(["-fvisibility=hidden"])]),
        .target(name: "ConveneFixture_NewerMinor", dependencies: ["ConvenePluginABI"], path: "Tests/PluginFixtures/NewerMinor",
                publicHeadersPath: ".", cSettings: [.unsafeFlags(["-fvisibility=hidden"])]),
        .target(name: "ConveneFixture_CrashingEntry", dependencies: ["ConvenePluginABI"], path: "Tests/PluginFixtures/CrashingEntry",
                publicHeadersPath: ".", cSettings: [.unsafeFlags(["-fvisibility=hidden"])]),
        .target(name: "ConveneFixture_Recorder", dependencies: ["ConvenePluginABI", "ConvenePluginProtos"],
                path: "Tests/PluginFixtures/Recorder", publicHeadersPath: ".",
                cSettings: [.headerSearchPath("../../../Plugins/common/util"), .unsafeFlags(["-fvisibility=hidden"])],
                linkerSettings: [.linkedLibrary("protobuf-c")]),
        // The Swift plugin SDK, on the same C ABI.
        .target(name: "ConvenePluginSDK",
                dependencies: ["ConvenePluginABI", "ConveneMessages", .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        // Fuzzing: the targets (a library, so tests replay the corpus) and the libFuzzer runner.
        // A stub plugin host in C that drives the groups-of-friends plugin (linked in) through the ABI.
        .target(name: "ConveneFuzzPluginHost", dependencies: ["ConvenePluginABI", "ConvenePlugin_Friends"]),
        .target(name: "ConveneFuzzTargets",
                dependencies: ["ConveneWire", "ConveneRPC", "ConveneTransport", "ConveneFuzzPluginHost",
                               .product(name: "NIOCore", package: "swift-nio"),
                               .product(name: "NIOEmbedded", package: "swift-nio"),
                               .product(name: "Logging", package: "swift-log")]),
        .executableTarget(name: "convene-fuzz", dependencies: ["ConveneFuzzTargets"]),
        // The server assembly: router + built-ins + transport + lifecycle.
        .target(name: "ConveneServer",
                dependencies: ["ConveneTransport", "ConveneGRPCTransport", "ConveneOperations", "ConveneBuiltins", "ConveneRPC", "ConveneServices", "ConveneStore",
                               "ConvenePostgresStore", "ConvenePluginHost", "ConveneDomain", "ConveneProtobuf", "ConveneProtos",
                               .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                               .product(name: "Logging", package: "swift-log"),
                               .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                               .product(name: "Tracing", package: "swift-distributed-tracing"),
                               .product(name: "NIOCore", package: "swift-nio"),
                               .product(name: "NIOPosix", package: "swift-nio")],
                swiftSettings: strict),
        // The Swift client library for partners.
        .target(name: "ConveneClient",
                dependencies: ["ConveneTransport", "ConveneRPC", "ConveneProtobuf", "ConveneProtos",
                               .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                               .product(name: "NIOCore", package: "swift-nio"),
                               .product(name: "NIOPosix", package: "swift-nio")],
                swiftSettings: strict),
        // The testing kit: a test server in one line, an in-memory client over the router, one
        // assertRPCError, a manual clock, a raw socket for byte-level tests (RawConnection), and
        // the behaviour every store implementation must have.
        .target(name: "ConveneTesting",
                dependencies: ["ConveneServer", "ConveneClient", "ConveneServices", "ConveneStore", "ConvenePostgresStore", "ConveneDomain",
                               "ConveneRPC", "ConveneProtobuf", "ConveneTransport", "ConveneWire",
                               .product(name: "PostgresNIO", package: "postgres-nio"),
                               .product(name: "NIOCore", package: "swift-nio"),
                               .product(name: "NIOPosix", package: "swift-nio"),
                               .product(name: "Logging", package: "swift-log")],
                swiftSettings: strict),
        .executableTarget(name: "convened",
                          dependencies: ["ConveneServer", "ConvenePostgresStore", "ConveneTransport", "ConveneWire", "ConvenePluginHost",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser"),
                                         .product(name: "Logging", package: "swift-log"),
                                         .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]),
        // An isolated plugin's process: loads the library and serves it to convened over a socket.
        .executableTarget(name: "convene-plugin-runner", dependencies: ["ConvenePluginHost"]),
        // The plugin developer's test harness: a plugin in an in-memory host, with no server (`convene plugin test`).
        .target(name: "ConvenePluginTesting",
                dependencies: ["ConvenePluginHost", "ConveneRPC", "ConveneClient", "ConveneMessages",
                               .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                               .product(name: "NIOCore", package: "swift-nio"),
                               .product(name: "Logging", package: "swift-log")],
                swiftSettings: strict),
        .executableTarget(name: "convene",
                          dependencies: ["ConveneClient", "ConveneProtos", "ConveneTransport", "ConveneRPC", "ConveneWire", "ConveneDomain",
                                         "ConvenePluginHost", "ConvenePluginTesting",
                                         .product(name: "Histogram", package: "hdrhistogram-swift"),
                                         .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                                         .product(name: "NIOCore", package: "swift-nio"),
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")]),

        .testTarget(name: "ConveneOperationsTests",
                    dependencies: ["ConveneOperations", "ConveneTesting", "ConveneClient", "ConveneRPC", "ConveneTransport",
                                   "ConveneServer",
                                   .product(name: "Tracing", package: "swift-distributed-tracing"),
                                   .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
                                   .product(name: "W3CTraceContext", package: "swift-w3c-trace-context")]),
        .testTarget(name: "ConveneClientTests",
                    dependencies: ["ConveneClient", "ConveneProtos", "ConveneMessages",
                                   .product(name: "SwiftProtobuf", package: "swift-protobuf")],
                    exclude: ["Fixtures"]),
        .testTarget(name: "ConveneGRPCTransportTests",
                    dependencies: ["ConveneGRPCTransport", "ConveneRPC", "ConveneWire",
                                   .product(name: "Logging", package: "swift-log"),
                                   .product(name: "NIOCore", package: "swift-nio"),
                                   .product(name: "NIOHPACK", package: "swift-nio-http2"),
                                   .product(name: "NIOHTTP2", package: "swift-nio-http2")]),
        .testTarget(name: "ConveneWireTests",
                    dependencies: ["ConveneWire", "ConveneTesting",
                                   .product(name: "NIOCore", package: "swift-nio"),
                                   .product(name: "NIOEmbedded", package: "swift-nio"),
                                   .product(name: "NIOTestUtils", package: "swift-nio")]),
        .testTarget(name: "ConveneRPCTests",
                    dependencies: ["ConveneRPC", "ConveneTransport", "ConveneWire", "ConveneServer", "ConveneFuzzTargets",
                                   .product(name: "NIOCore", package: "swift-nio"),
                                   .product(name: "NIOEmbedded", package: "swift-nio")]),
        // The transport: the connection state machine with a manual clock, and the handlers in memory.
        .testTarget(name: "ConveneTransportTests",
                    dependencies: ["ConveneTransport", "ConveneRPC", "ConveneWire",
                                   .product(name: "NIOCore", package: "swift-nio"),
                                   .product(name: "NIOEmbedded", package: "swift-nio"),
                                   .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "ConveneDomainTests",
                    dependencies: ["ConveneDomain", .product(name: "PropertyBased", package: "swift-property-based")]),
        .testTarget(name: "ConveneProtosTests",
                    dependencies: ["ConveneProtos", "ConveneMessages", .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        .testTarget(name: "ConveneStoreTests",
                    dependencies: ["ConveneStore", "ConvenePostgresStore", "ConveneDomain", "ConveneTesting", "ConveneRPC",
                                   .product(name: "GRDB", package: "GRDB.swift"),
                                   .product(name: "PropertyBased", package: "swift-property-based")]),
        .testTarget(name: "ConveneServiceTests",
                    dependencies: ["ConveneTesting", "ConveneServer", "ConveneClient", "ConveneProtos", "ConveneRPC", "ConveneTransport",
                                   "ConveneStore", "ConveneServices", "ConvenePluginHost",
                                   .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                                   .product(name: "NIOCore", package: "swift-nio"),
                                   .product(name: "NIOPosix", package: "swift-nio"),
                                   .product(name: "Logging", package: "swift-log")]),
        // Several convened on one PostgreSQL database (processes of their own), and the client over several targets.
        .testTarget(name: "ConveneClusterTests",
                    dependencies: ["ConveneTesting", "ConveneClient", "ConveneProtos", "ConveneRPC", "ConveneTransport", "ConveneServer",
                                   .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                                   .product(name: "NIOPosix", package: "swift-nio")]),
        .testTarget(name: "ConveneConformanceTests",
                    dependencies: ["ConveneTesting", "ConveneServer", "ConveneClient", "ConveneProtos", "ConveneWire", "ConveneBuiltins", "ConveneStore",
                                   "ConveneTransport", "ConveneRPC", "ConveneProtobuf",
                                   .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                                   .product(name: "NIOCore", package: "swift-nio"),
                                   .product(name: "NIOPosix", package: "swift-nio"),
                                   .product(name: "NIOSSL", package: "swift-nio-ssl"),
                                   .product(name: "X509", package: "swift-certificates"),
                                   .product(name: "SwiftASN1", package: "swift-asn1"),
                                   .product(name: "Crypto", package: "swift-crypto"),
                                   .product(name: "Logging", package: "swift-log")]),
    ] + plugins.map { $0.language == "c" ? cPlugin($0.name, folder: $0.folder) : swiftPlugin($0.name, folder: $0.folder) }
      // Two builds of one Swift plugin, for reloading rebuilt code.
      + ["VersionA", "VersionB"].map { version in
          .target(name: "ConveneFixture_\(version)",
                  dependencies: ["ConvenePluginSDK", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
                  path: "Tests/PluginFixtures/\(version)",
                  swiftSettings: version == "VersionB" ? [.define("BUILD_B")] : [],
                  linkerSettings: [.unsafeFlags(["-Xlinker", "--version-script=\(root)/Plugins/exports.map"])])
      }
)
