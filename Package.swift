// swift-tools-version:6.1
import PackageDescription

// Layers, each importing only those below it (docs/ARCHITECTURE.md):
//   CipherWire    generated Protocol Buffers schema and bounded decoding
//   CipherCore    keys, handshake, ratchet, sender keys, file STREAM: pure, no I/O
//   CipherTesting seeded randomness, manual clock, fixtures shared by every test target
//   cipherchat    the command-line executable
let package = Package(
    name: "cipherchat",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "cipherchat", targets: ["cipherchat"]),
        .library(name: "CipherCore", targets: ["CipherCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", exact: "4.5.2"),
        .package(url: "https://github.com/apple/swift-protobuf.git", exact: "1.39.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", exact: "1.8.2"),
    ],
    targets: [
        .target(
            name: "CipherWire",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["Generated/README.md"]
        ),
        .target(
            name: "CipherCore",
            dependencies: [
                "CipherWire",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        .target(
            name: "CipherTesting",
            dependencies: [
                "CipherCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            resources: [.copy("Fixtures")]
        ),
        .executableTarget(
            name: "cipherchat",
            dependencies: [
                "CipherCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "CipherCoreTests",
            dependencies: [
                "CipherCore",
                "CipherWire",
                "CipherTesting",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
