#!/usr/bin/env bash
# Installs the plugin developer kit under PREFIX (`make install-sdk`; Docs/PLUGINS.md):
#   bin/          convene, convened, convene-plugin-runner (when built), convene-plugin-protoc, protoc-gen-swift
#   include/convene/   convene_plugin.h (the ABI) and convene_plugin_util.h (the C helpers)
#   lib/pkgconfig/convene-plugin.pc
#   share/convene/protos/               the server's protos (event payloads, the services a plugin may call)
#   share/convene/swift/ConvenePluginSDK/   the Swift SDK, a package a plugin depends on by path
#
# usage: scripts/install-sdk.sh PREFIX GENERATORS_BIN BUILD_BIN
set -euo pipefail
prefix=$1 generators=$2 build=$3
cd "$(dirname "$0")/.."
mkdir -p "$prefix"
prefix=$(cd "$prefix" && pwd)

header=Plugins/include/convene_plugin.h
major=$(sed -n 's/^#define CONVENE_ABI_MAJOR \([0-9]*\)$/\1/p' $header)
minor=$(sed -n 's/^#define CONVENE_ABI_MINOR \([0-9]*\)$/\1/p' $header)

install -d "$prefix/bin" "$prefix/include/convene" "$prefix/lib/pkgconfig" "$prefix/share/convene"
install -m 644 $header Plugins/common/util/convene_plugin_util.h "$prefix/include/convene/"
install -m 755 scripts/convene-plugin-protoc "$generators/protoc-gen-swift" "$prefix/bin/"
for tool in convene convened convene-plugin-runner; do
  if [ -x "$build/$tool" ]; then install -m 755 "$build/$tool" "$prefix/bin/"; else echo "not built, not installed: $build/$tool"; fi
done

cat > "$prefix/lib/pkgconfig/convene-plugin.pc" <<PC
prefix=$prefix
includedir=\${prefix}/include/convene

Name: convene-plugin
Description: The Convene plugin ABI $major.$minor (convene_plugin.h) and its C helpers (convene_plugin_util.h)
Version: $major.$minor
Requires: libprotobuf-c
Cflags: -I\${includedir} -fvisibility=hidden
Libs:
PC

rm -rf "$prefix/share/convene/protos" && cp -r Protos "$prefix/share/convene/protos"

# The Swift SDK: the ABI header as a C module, the messages of every proto (ConveneMessages), the SDK.
sdk=$prefix/share/convene/swift/ConvenePluginSDK
rm -rf "$sdk"
install -d "$sdk/Sources/ConvenePluginABI/include" "$sdk/Sources/ConveneMessages" "$sdk/Sources/ConvenePluginSDK"
install -m 644 $header "$sdk/Sources/ConvenePluginABI/include/"
install -m 644 Plugins/abi/abi.c "$sdk/Sources/ConvenePluginABI/"
cp -r Sources/ConveneMessages/. "$sdk/Sources/ConveneMessages/"
cp -r Sources/ConvenePluginSDK/. "$sdk/Sources/ConvenePluginSDK/"
# What a plugin library exports: its entry point and its Swift toolchain (checked at load).
echo '{ global: convene_plugin_entry; convene_plugin_swift_toolchain; local: *; };' > "$sdk/exports.map"
protobuf=$(sed -n 's|.*swift-protobuf.git", from: "\([0-9.]*\)".*|\1|p' Package.swift)
swift=$(swift --version 2>/dev/null | sed -n 's/.*Swift version \([0-9.]*\).*/\1/p' | head -1)
cat > "$sdk/Package.swift" <<SWIFT
// swift-tools-version:6.1
// The Convene plugin SDK $major.$minor for Swift, installed by \`make install-sdk\`. Build plugins
// with Swift $swift, the toolchain the server was built with, and swift-protobuf $protobuf.
import PackageDescription

let package = Package(
    name: "ConvenePluginSDK",
    products: [.library(name: "ConvenePluginSDK", targets: ["ConvenePluginSDK"])],
    dependencies: [.package(url: "https://github.com/apple/swift-protobuf.git", exact: "$protobuf")],
    targets: [
        .target(name: "ConvenePluginABI"),
        .target(name: "ConveneMessages", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        .target(name: "ConvenePluginSDK",
                dependencies: ["ConvenePluginABI", "ConveneMessages", .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
    ]
)
SWIFT
echo "installed the Convene plugin SDK $major.$minor (Swift $swift) in $prefix"
