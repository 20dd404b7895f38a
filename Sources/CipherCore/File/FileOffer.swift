import CipherWire
import Foundation

/// A file the sender uploaded to the relay as a blob: where to fetch it and how to open it
/// (PROTOCOL.md 9.4). It travels only inside an end-to-end encrypted message, as the content of
/// a `Payload` of kind `.fileOffer`, since its manifest holds the file key.
public struct FileOffer: Sendable, Hashable {
    public static let blobIDSize = 16
    static let maxRoomSize = 33
    static let maxEncodedSize = 2048

    /// The relay's name for the encrypted stream: random, so it says nothing about the file.
    public let blobID: [UInt8]
    public let manifest: FileManifest
    /// The room the file was sent to, `#name`; nil for a file sent to one user.
    public let room: String?

    public init(blobID: [UInt8], manifest: FileManifest, room: String? = nil) {
        precondition(blobID.count == Self.blobIDSize, "a blob id is 16 bytes")
        self.blobID = blobID
        self.manifest = manifest
        self.room = room
    }

    public init(serialized bytes: some Collection<UInt8>) throws(FileError) {
        let wire: WireFileOffer
        do {
            wire = try WireFileOffer(boundedBytes: bytes, maxSize: Self.maxEncodedSize)
        } catch {
            throw .malformedManifest
        }
        guard wire.blobID.count == Self.blobIDSize, wire.hasManifest, wire.room.utf8.count <= Self.maxRoomSize else {
            throw .malformedManifest
        }
        let manifest = try FileManifest(serialized: wire.manifest.encodedBytes)
        self.init(blobID: Array(wire.blobID), manifest: manifest, room: wire.room.isEmpty ? nil : wire.room)
    }

    /// The content of a `Payload` of kind `.fileOffer`.
    public var serialized: [UInt8] {
        var wire = WireFileOffer()
        wire.blobID = Data(blobID)
        // The manifest's own encoding is the reference: decoding it back cannot fail.
        wire.manifest = try! WireFileManifest(serializedBytes: manifest.serialized)
        wire.room = room ?? ""
        return wire.encodedBytes
    }
}

extension FileOffer: CustomStringConvertible {
    public var description: String { "FileOffer(\(Hex.encode(blobID)), \(manifest))" }
}
