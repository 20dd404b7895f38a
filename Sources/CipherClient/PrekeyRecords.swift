import CipherCore
import CipherWire
import Foundation

/// How the client stores its own prekeys' private halves (sealed items).
struct StoredSignedPrekey: Codable {
    var wire: String
    var privateKey: SecretBytes

    init(_ pair: SignedPrekeyPair) {
        wire = Hex.encode(pair.publicPrekey.wire.encodedBytes)
        privateKey = SecretBytes(pair.privateKeyBytes)
    }

    func pair(owner: PublicIdentity) throws -> SignedPrekeyPair {
        guard let wireBytes = Hex.decode(wire) else { throw ClientError.storeCorrupted }
        let prekey = try SignedPrekey(wire: WireSignedPrekey(serializedBytes: wireBytes), owner: owner)
        return try privateKey.withBytes { try SignedPrekeyPair(publicPrekey: prekey, privateKeyBytes: $0) }
    }
}

struct StoredPostQuantumPrekey: Codable {
    var wire: String
    var seed: SecretBytes

    init(_ pair: PostQuantumPrekeyPair) {
        wire = Hex.encode(pair.publicPrekey.wire.encodedBytes)
        seed = SecretBytes(pair.seed)
    }

    func pair(owner: PublicIdentity) throws -> PostQuantumPrekeyPair {
        guard let wireBytes = Hex.decode(wire) else { throw ClientError.storeCorrupted }
        let prekey = try PostQuantumPrekey(wire: WirePostQuantumPrekey(serializedBytes: wireBytes), owner: owner)
        return try seed.withBytes { try PostQuantumPrekeyPair(publicPrekey: prekey, seed: $0) }
    }
}

extension Encodable {
    func jsonBytes() throws -> [UInt8] { Array(try JSONEncoder().encode(self)) }
}

extension Decodable {
    static func fromJSON(_ bytes: [UInt8]) throws -> Self { try JSONDecoder().decode(Self.self, from: Data(bytes)) }
}
