import CipherCore
import CipherWire
import Foundation

/// How the client stores its own prekeys' private halves (sealed items).
struct StoredSignedPrekey: Codable {
    var wire: String
    var privateKey: String

    init(_ pair: SignedPrekeyPair) {
        wire = Hex.encode(pair.publicPrekey.wire.encodedBytes)
        privateKey = Hex.encode(pair.privateKeyBytes)
    }

    func pair(owner: PublicIdentity) throws -> SignedPrekeyPair {
        guard let wireBytes = Hex.decode(wire), let key = Hex.decode(privateKey) else { throw ClientError.storeCorrupted }
        let prekey = try SignedPrekey(wire: WireSignedPrekey(serializedBytes: wireBytes), owner: owner)
        return try SignedPrekeyPair(publicPrekey: prekey, privateKeyBytes: key)
    }
}

struct StoredPostQuantumPrekey: Codable {
    var wire: String
    var seed: String

    init(_ pair: PostQuantumPrekeyPair) {
        wire = Hex.encode(pair.publicPrekey.wire.encodedBytes)
        seed = Hex.encode(pair.seed)
    }

    func pair(owner: PublicIdentity) throws -> PostQuantumPrekeyPair {
        guard let wireBytes = Hex.decode(wire), let seedBytes = Hex.decode(seed) else { throw ClientError.storeCorrupted }
        let prekey = try PostQuantumPrekey(wire: WirePostQuantumPrekey(serializedBytes: wireBytes), owner: owner)
        return try PostQuantumPrekeyPair(publicPrekey: prekey, seed: seedBytes)
    }
}

extension Encodable {
    func jsonBytes() throws -> [UInt8] { Array(try JSONEncoder().encode(self)) }
}

extension Decodable {
    static func fromJSON(_ bytes: [UInt8]) throws -> Self { try JSONDecoder().decode(Self.self, from: Data(bytes)) }
}
