#!/usr/bin/env bash
# Regenerates Sources/CipherWire/Generated from Protos/. The generated Swift is committed, so
# building and CI need no protoc; run this after changing a .proto file.
#
# Needs protoc (Debian: apt-get install protobuf-compiler) and the protoc-gen-swift plugin built
# from the same swift-protobuf version the package depends on.
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(sed -n 's/.*swift-protobuf.git", exact: "\([0-9.]*\)".*/\1/p' Package.swift)
plugin_dir=.build-protoc-gen-swift
if [ ! -x "$plugin_dir/swift-protobuf/.build/release/protoc-gen-swift" ]; then
  rm -rf "$plugin_dir"
  mkdir -p "$plugin_dir"
  git clone --quiet --branch "$version" https://github.com/apple/swift-protobuf.git "$plugin_dir/swift-protobuf"
  swift build -c release --package-path "$plugin_dir/swift-protobuf" --product protoc-gen-swift
fi
command -v protoc >/dev/null || { echo "protoc not found: apt-get install protobuf-compiler" >&2; exit 1; }

out=Sources/CipherWire/Generated
rm -f "$out"/*.pb.swift
protoc \
  --plugin=protoc-gen-swift="$plugin_dir/swift-protobuf/.build/release/protoc-gen-swift" \
  --swift_opt=Visibility=Public \
  --swift_out="$out" \
  -I Protos Protos/*.proto
echo "generated: $(ls "$out"/*.pb.swift | tr '\n' ' ')"
