import CipherWire
import Crypto
import Foundation

/// Everything a recipient needs to decrypt and check a file (PROTOCOL.md 9.3). It holds the
/// file key: it travels only inside a ratchet or group message, and is never logged.
public struct FileManifest: Sendable, Hashable {
    public static let defaultChunkSize = 64 * 1024
    static let allowedChunkSizes = 1024...(1 << 20)
    static let maxNameSize = 255
    /// 2^50 bytes (1 PiB): far past any file a relay accepts, and small enough that chunk
    /// arithmetic on a hostile manifest cannot overflow.
    public static let maxSize: UInt64 = 1 << 50

    public let name: String
    public let size: UInt64
    public let sha256: [UInt8]
    let key: [UInt8]
    public let chunkSize: Int

    init(name: String, size: UInt64, sha256: [UInt8], key: [UInt8], chunkSize: Int) {
        self.name = name
        self.size = size
        self.sha256 = sha256
        self.key = key
        self.chunkSize = chunkSize
    }

    public init(serialized bytes: some Collection<UInt8>) throws(FileError) {
        let wire: WireFileManifest
        do {
            wire = try WireFileManifest(boundedBytes: bytes, maxSize: 1024)
        } catch {
            throw .malformedManifest
        }
        guard !wire.name.isEmpty, wire.name.utf8.count <= Self.maxNameSize, wire.size <= Self.maxSize,
              wire.sha256.count == 32, wire.key.count == 32,
              Self.allowedChunkSizes.contains(Int(wire.chunkSize)) else {
            throw .malformedManifest
        }
        self.init(name: wire.name, size: wire.size, sha256: Array(wire.sha256), key: Array(wire.key), chunkSize: Int(wire.chunkSize))
    }

    /// The content of a `Payload` of kind `.fileManifest`.
    public var serialized: [UInt8] {
        var wire = WireFileManifest()
        wire.name = name
        wire.size = size
        wire.sha256 = Data(sha256)
        wire.key = Data(key)
        wire.chunkSize = UInt32(chunkSize)
        return wire.encodedBytes
    }

    /// How many chunks the encrypted stream has: at least one, the last possibly short.
    public var chunkCount: UInt64 {
        size == 0 ? 1 : (size + UInt64(chunkSize) - 1) / UInt64(chunkSize)
    }

    /// The size of the encrypted stream: every chunk carries a 16-byte tag.
    public var encryptedSize: UInt64 { size + chunkCount * 16 }
}

extension FileManifest: CustomStringConvertible {
    public var description: String { "FileManifest(\(name), \(size) bytes, key redacted)" }
}
