import CipherCore
import CipherTesting
import CipherWire
import Foundation

/// The receivers the fuzz targets hand their inputs to, built once per process from the protocol
/// vectors (PROTOCOL.md section 11), so that the seed corpus, taken from the same vectors,
/// reaches past the parsers into the code that uses what they return.
struct FuzzFixtures: Sendable {
    static let shared: FuzzFixtures = {
        do {
            return try FuzzFixtures(vectors: loadVectors())
        } catch {
            fatalError("the fuzz fixtures cannot be built from the protocol vectors: \(error)")
        }
    }()

    /// What a sealed container in the corpus is sealed under.
    static let sealingPassphrase = "correct horse battery staple"
    static let sealingContext = "cipherchat/fuzz/sealed-container"

    /// Bob of PROTOCOL.md 11.3, with the private halves of his prekeys.
    let bob: PrivateIdentity
    let bobSignedPrekey: SignedPrekeyPair
    let bobPostQuantumPrekey: PostQuantumPrekeyPair
    let bobOneTimePrekey: OneTimePrekeyPair
    /// Bob's session after accepting `handshake_envelope`: ratchet messages go to it.
    let bobSession: Session
    /// Alice, to start sessions with the bundles a relay hands out.
    let alice: PrivateIdentity
    let aliceSignedPrekey: SignedPrekeyPair
    /// Alice's sender chain in `#vectors` as another member holds it (PROTOCOL.md 11.5).
    let groupReceiver: ReceivedSenderChain
    /// `#vectors` after its creation statement (PROTOCOL.md 11.7).
    let createdRoom: RoomMembership
    /// The manifest of PROTOCOL.md 11.6, whose chunks the file target opens.
    let fileManifest: FileManifest

    private init(vectors: [String: String]) throws {
        func hex(_ key: String) throws -> [UInt8] {
            guard let text = vectors[key], let bytes = Hex.decode(text) else { throw FixtureError(what: "vector \(key)") }
            return bytes
        }
        bob = TestIdentities.bob
        bobSignedPrekey = try SignedPrekeyPair(
            publicPrekey: SignedPrekey(
                wire: WireSignedPrekey(boundedBytes: hex("bob_signed_prekey"), maxSize: 4096), owner: bob.publicIdentity
            ),
            privateKeyBytes: hex("bob_signed_prekey_private")
        )
        bobPostQuantumPrekey = try PostQuantumPrekeyPair(
            publicPrekey: PostQuantumPrekey(
                wire: WirePostQuantumPrekey(boundedBytes: hex("bob_pq_prekey"), maxSize: 4096), owner: bob.publicIdentity
            ),
            seed: hex("bob_pq_prekey_seed")
        )
        bobOneTimePrekey = try OneTimePrekeyPair(id: 100, privateKeyBytes: hex("bob_one_time_prekey_private"))
        guard case .prekey(let handshake) = try SessionEnvelope(serialized: hex("handshake_envelope")) else {
            throw FixtureError(what: "handshake_envelope is not a prekey envelope")
        }
        bobSession = try Session.accept(
            handshake, identity: bob, signedPrekey: bobSignedPrekey, postQuantumPrekey: bobPostQuantumPrekey,
            oneTimePrekey: bobOneTimePrekey, random: SeededRandomSource(seed: "fuzz/bob")
        ).session

        alice = TestIdentities.alice
        aliceSignedPrekey = try SignedPrekeyPair.generate(
            id: 1, createdAt: 1_767_225_600, identity: alice, random: SeededRandomSource(seed: "fuzz/alice")
        )

        var distribution = WireSenderKeyDistribution()
        distribution.room = "#vectors"
        distribution.chainID = 0x0102_0304
        distribution.iteration = 7
        distribution.chainKey = Data(repeating: 0x42, count: 32)
        distribution.signingKey = Data(Self.groupSigningPublicKey)
        groupReceiver = try ReceivedSenderChain(
            SenderKeyDistribution(serialized: distribution.encodedBytes), from: alice.publicIdentity.fingerprint
        )
        createdRoom = try RoomMembership(creation: RoomStatement(serialized: hex("room_statement_create")))
        fileManifest = try FileManifest(serialized: hex("file_manifest"))
    }

    /// The Ed25519 public key of the signing seed `0x24 * 32` of PROTOCOL.md 11.5.
    static let groupSigningPublicKey: [UInt8] = Hex.decode("58936604abda112bc94933569c82f8d0cc0ddf92a3f8329f2f448f7f484a594c")!

    struct FixtureError: Error, CustomStringConvertible {
        let what: String
        var description: String { what }
    }

    /// Tests/CipherCoreTests/Vectors/protocol-v1.json, found from this file's place in the
    /// repository (the fuzzers and the main package's tests compile it from different folders)
    /// or from the current directory.
    private static func loadVectors() throws -> [String: String] {
        let relative = "Tests/CipherCoreTests/Vectors/protocol-v1.json"
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        var candidates: [URL] = []
        for _ in 0..<6 {
            candidates.append(directory.appendingPathComponent(relative))
            directory = directory.deletingLastPathComponent()
        }
        candidates.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(relative))
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
            throw FixtureError(what: "\(relative) not found from \(#filePath) or the current directory")
        }
        return try JSONDecoder().decode([String: String].self, from: Data(contentsOf: found))
    }
}
