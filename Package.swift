// swift-tools-version:6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "Convene",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "convened", targets: ["convened"]),
        .executable(name: "convene", targets: ["convene"]),
        .library(name: "ConveneClient", targets: ["ConveneClient"]),
        .library(name: "ConveneServer", targets: ["ConveneServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
    ],
    targets: [
        // zlib, found through pkg-config (zlib1g-dev).
        .systemLibrary(name: "CConveneZlib", path: "Sources/CConveneZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),

        // wire: frame layout, encode/decode, limits, compression. No sockets, no services.
        .target(name: "ConveneWire",
                dependencies: [.product(name: "NIOCore", package: "swift-nio"), "CConveneZlib"],
                swiftSettings: strict),
        // RPC core: status codes, metadata, method descriptors, router, call contexts. No NIO channels.
        .target(name: "ConveneRPC",
                dependencies: ["ConveneWire", .product(name: "NIOCore", package: "swift-nio")],
                swiftSettings: strict),
        // Typed protobuf coding on top of the RPC core.
        .target(name: "ConveneProtobuf",
                dependencies: ["ConveneRPC", .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                               .product(name: "NIOCore", package: "swift-nio")],
                swiftSettings: strict),
        // Generated protobuf code (make protos) and the embedded descriptor set.
        .target(name: "ConveneProtos",
                dependencies: ["ConveneRPC", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
                exclude: ["README.md"]),
        // transport: NIO server and client connections, multiplexing, flow control, keepalive, drain.
        .target(name: "ConveneTransport",
                dependencies: [
                    "ConveneWire", "ConveneRPC",
                    .product(name: "NIOCore", package: "swift-nio"),
                    .product(name: "NIOPosix", package: "swift-nio"),
                    .product(name: "Logging", package: "swift-log"),
                ],
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
                               .product(name: "Crypto", package: "swift-crypto")],
                swiftSettings: strict),
        // services: consultation, briefing, lessons learned and administration handlers.
        .target(name: "ConveneServices",
                dependencies: ["ConveneDomain", "ConveneStore", "ConveneRPC", "ConveneProtobuf", "ConveneProtos",
                               .product(name: "Crypto", package: "swift-crypto"),
                               .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                               .product(name: "NIOCore", package: "swift-nio"),
                               .product(name: "Logging", package: "swift-log")],
                swiftSettings: strict),
        // The server assembly: router + built-ins + transport + lifecycle.
        .target(name: "ConveneServer",
                dependencies: ["ConveneTransport", "ConveneBuiltins", "ConveneRPC", "ConveneServices", "ConveneStore",
                               .product(name: "Logging", package: "swift-log"),
                               .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
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
        .executableTarget(name: "convened",
                          dependencies: ["ConveneServer",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser"),
                                         .product(name: "Logging", package: "swift-log"),
                                         .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]),
        .executableTarget(name: "convene",
                          dependencies: ["ConveneClient", "ConveneProtos", "ConveneTransport", "ConveneRPC",
                                         .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                                         .product(name: "NIOCore", package: "swift-nio"),
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")]),

        .testTarget(name: "ConveneWireTests",
                    dependencies: ["ConveneWire",
                                   .product(name: "NIOCore", package: "swift-nio"),
                                   .product(name: "NIOEmbedded", package: "swift-nio"),
                                   .product(name: "NIOTestUtils", package: "swift-nio")]),
        .testTarget(name: "ConveneRPCTests",
                    dependencies: ["ConveneRPC", "ConveneTransport", "ConveneWire", "ConveneServer",
                                   .product(name: "NIOCore", package: "swift-nio"),
                                   .product(name: "NIOEmbedded", package: "swift-nio")]),
        .testTarget(name: "ConveneDomainTests", dependencies: ["ConveneDomain"]),
        .testTarget(name: "ConveneServiceTests",
                    dependencies: ["ConveneServer", "ConveneClient", "ConveneProtos", "ConveneRPC", "ConveneTransport",
                                   "ConveneStore",
                                   .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                                   .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "ConveneConformanceTests",
                    dependencies: ["ConveneServer", "ConveneClient", "ConveneProtos", "ConveneWire", "ConveneBuiltins",
                                   "ConveneTransport", "ConveneRPC", "ConveneProtobuf",
                                   .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                                   .product(name: "NIOCore", package: "swift-nio"),
                                   .product(name: "NIOPosix", package: "swift-nio"),
                                   .product(name: "Logging", package: "swift-log")]),
    ]
)
