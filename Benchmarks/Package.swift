// swift-tools-version:6.1
// Micro benchmarks (package-benchmark): `make bench`, or from this folder
// `swift package --allow-writing-to-package-directory benchmark`.
// A package of its own so that the server's build and `make test` do not build the harness.
import PackageDescription

let package = Package(
    name: "ConveneBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "Convene", path: "../"),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        .executableTarget(
            name: "ProtocolBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "ConveneWire", package: "Convene"),
                .product(name: "ConveneRPC", package: "Convene"),
                .product(name: "ConveneTransport", package: "Convene"),
                .product(name: "ConvenePluginHost", package: "Convene"),
                // Built so the plugin benchmark can dlopen it from beside the executable.
                .product(name: "ConveneTemplatePlugin", package: "Convene"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/ProtocolBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
