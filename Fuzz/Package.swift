// swift-tools-version:6.1
import PackageDescription

// libFuzzer targets for every parser of untrusted bytes (docs/SECURITY.md, "How this is
// tested"), apart from the main package so that its build and tests stay free of sanitizers.
// Build and run them with scripts/fuzz.sh:
//
//     swift build --package-path Fuzz --sanitize=fuzzer --sanitize=address
//
// Each executable's main.swift holds only the `LLVMFuzzerTestOneInput` function; what it does
// is in FuzzEntryPoints, which the main package's tests also compile (through a symbolic link,
// Tests/CipherServerTests/FuzzEntryPoints) to replay every file of Corpus/ as an ordinary test.
let fuzzTargets = [
    "FuzzFrameDecoder",
    "FuzzWireMessages",
    "FuzzSessionMessages",
    "FuzzGroup",
    "FuzzFiles",
    "FuzzSealedContainer",
    "FuzzProxyHeader",
]

let package = Package(
    name: "CipherChatFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "cipherchat", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", exact: "2.101.3"),
    ],
    targets: [
        .target(
            name: "FuzzEntryPoints",
            dependencies: [
                .product(name: "CipherCore", package: "cipherchat"),
                .product(name: "CipherWire", package: "cipherchat"),
                .product(name: "CipherNIO", package: "cipherchat"),
                .product(name: "CipherRelay", package: "cipherchat"),
                .product(name: "CipherTesting", package: "cipherchat"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
    ] + fuzzTargets.map { name in
        .executableTarget(name: name, dependencies: ["FuzzEntryPoints"])
    },
    swiftLanguageModes: [.v6]
)
