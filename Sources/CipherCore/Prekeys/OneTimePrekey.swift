import CipherWire
import Crypto
import Foundation

/// An unsigned X25519 prekey that the directory hands out once (PROTOCOL.md 5.1).
public struct OneTimePrekey: Sendable, Hashable {
    public let id: UInt32
    public let publicKey: [UInt8]

    public init(wire: WireOneTimePrekey) throws(IdentityError) {
        guard wire.publicKey.count == 32 else { throw .malformed("one-time prekey") }
        id = wire.id
        publicKey = Array(wire.publicKey)
    }

    init(id: UInt32, publicKey: [UInt8]) {
        self.id = id
        self.publicKey = publicKey
    }

    public var wire: WireOneTimePrekey {
        var wire = WireOneTimePrekey()
        wire.id = id
        wire.publicKey = Data(publicKey)
        return wire
    }
}

/// A one-time prekey with its private half; the owner deletes it after its first use.
public struct OneTimePrekeyPair: Sendable {
    public let publicPrekey: OneTimePrekey
    let privateKey: Curve25519.KeyAgreement.PrivateKey

    public static func generate(id: UInt32, random: some RandomSource) throws -> OneTimePrekeyPair {
        let privateKey = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: random.bytes(32))
        return OneTimePrekeyPair(
            publicPrekey: OneTimePrekey(id: id, publicKey: Array(privateKey.publicKey.rawRepresentation)),
            privateKey: privateKey
        )
    }

    /// Generates `count` prekeys with consecutive ids from `firstID`, for one upload.
    public static func generateBatch(
        firstID: UInt32, count: Int, random: some RandomSource
    ) throws -> [OneTimePrekeyPair] {
        try (0..<count).map { try generate(id: firstID &+ UInt32($0), random: random) }
    }

    public init(id: UInt32, privateKeyBytes: [UInt8]) throws(IdentityError) {
        guard privateKeyBytes.count == 32,
              let key = try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: privateKeyBytes) else {
            throw .malformed("one-time prekey private key")
        }
        publicPrekey = OneTimePrekey(id: id, publicKey: Array(key.publicKey.rawRepresentation))
        privateKey = key
    }

    init(publicPrekey: OneTimePrekey, privateKey: Curve25519.KeyAgreement.PrivateKey) {
        self.publicPrekey = publicPrekey
        self.privateKey = privateKey
    }

    public var privateKeyBytes: [UInt8] { Array(privateKey.rawRepresentation) }
}

extension OneTimePrekeyPair: CustomStringConvertible {
    public var description: String { "OneTimePrekeyPair(id: \(publicPrekey.id), private key redacted)" }
}
