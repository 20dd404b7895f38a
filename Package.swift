// swift-tools-version:6.1
import PackageDescription

// Layers, each importing only those below it (docs/ARCHITECTURE.md):
//   CipherWire    generated Protocol Buffers schema and bounded decoding
//   CipherCore    keys, handshake, ratchet, sender keys, file STREAM: pure, no I/O
//   CipherRelay   relay logic over storage protocols: accounts, prekeys, queues, limits; no NIO
//   CipherSQLite  the durable RelayStore on SQLite (GRDB), with group commit of queued envelopes
//   CipherPostgres the RelayStore on PostgreSQL (postgres-nio), shared by several relay instances
//   CipherNIO     adapter: length-prefixed framing, TLS 1.3 configuration, certificates
//   CipherServer  the relay server: wires sockets, TLS, the store and the logs to CipherRelay
//   CipherClient  the client library: relay link, sessions, contacts, the sealed local store
//   CipherTesting seeded randomness, fixtures shared by every test target
//   cipherchat    the command-line executable
let package = Package(
    name: "cipherchat",
    // Linux only (README): this states the minimum macOS for swift-crypto's APIs, not support.
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "cipherchat", targets: ["cipherchat"]),
        // The benchmarks, apart from the shipped binary (docs/BENCHMARKS.md).
        .executable(name: "cipherchat-bench", targets: ["cipherchat-bench"]),
        .library(name: "CipherCore", targets: ["CipherCore"]),
        // For the fuzzing package in Fuzz/, which builds apart with sanitizers (scripts/fuzz.sh).
        .library(name: "CipherWire", targets: ["CipherWire"]),
        .library(name: "CipherNIO", targets: ["CipherNIO"]),
        .library(name: "CipherRelay", targets: ["CipherRelay"]),
        .library(name: "CipherTesting", targets: ["CipherTesting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", exact: "4.5.2"),
        .package(url: "https://github.com/apple/swift-protobuf.git", exact: "1.39.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", exact: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-nio.git", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", exact: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", exact: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", exact: "1.7.4"),
        .package(url: "https://github.com/apple/swift-log.git", exact: "1.16.2"),
        .package(url: "https://github.com/vapor/postgres-nio.git", exact: "1.33.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", exact: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", exact: "2.13.0"),
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
            name: "CipherRelay",
            dependencies: ["CipherCore", "CipherWire"]
        ),
        .target(
            name: "CipherSQLite",
            dependencies: ["CipherRelay", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .target(
            name: "CipherPostgres",
            dependencies: [
                "CipherRelay",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                // For `ConnectionPoolError`, which the pool throws once it stops trying to connect.
                .product(name: "_ConnectionPoolModule", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "CipherNIO",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "CipherServer",
            dependencies: [
                "CipherCore",
                "CipherWire",
                "CipherRelay",
                "CipherNIO",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "CipherClient",
            dependencies: [
                "CipherCore",
                "CipherWire",
                "CipherNIO",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
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
            dependencies: programDependencies + [
                "CipherPostgres",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(name: "cipherchat-bench", dependencies: programDependencies),
        .testTarget(
            name: "CipherServerTests",
            dependencies: [
                "CipherClient",
                "CipherCore",
                "CipherNIO",
                "CipherPostgres",
                "CipherRelay",
                "CipherServer",
                "CipherSQLite",
                "CipherTesting",
                "CipherWire",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
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
            ],
            exclude: ["Vectors"]
        ),
        .testTarget(
            name: "CipherRelayTests",
            dependencies: [
                "CipherRelay", "CipherSQLite", "CipherPostgres", "CipherTesting", "CipherCore",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "CipherChatUITests",
            dependencies: ["cipherchat", "CipherTesting"]
        ),
        .testTarget(
            name: "CipherEndToEndTests",
            // The client and relay libraries: to queue thousands of real messages without
            // thousands of processes, and to stand up a relay whose queue count is wrong.
            dependencies: ["cipherchat", "CipherTesting", "CipherClient", "CipherRelay", "CipherServer", "CipherSQLite"]
        ),
    ],
    swiftLanguageModes: [.v6]
)

/// What both programs use: the shipped `cipherchat` adds the PostgreSQL store and the service
/// lifecycle of its relay, `cipherchat-bench` measures through the same libraries.
var programDependencies: [Target.Dependency] {
    [
        "CipherCore", "CipherClient", "CipherServer", "CipherRelay", "CipherSQLite", "CipherNIO",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "_CryptoExtras", package: "swift-crypto"),
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
    ]
}
