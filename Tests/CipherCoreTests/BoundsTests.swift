import CipherTesting
import CipherWire
import Crypto
import Foundation
import Testing
@testable import CipherCore

/// Values a hostile peer controls that must end in an error, never in arithmetic overflow.
@Suite("Bounds on peer-controlled values")
struct BoundsTests {
    @Test("a sender chain handed over at the last iteration cannot crash the receiver")
    func lastIterationRefused() throws {
        let signing = try Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 3, count: 32))
        var chain = SenderChain(
            room: "#r", owner: TestIdentities.alice.publicIdentity.fingerprint, chainID: 1, iteration: UInt32.max,
            chainKey: ChainKey(SymmetricKey(data: [UInt8](repeating: 1, count: 32))), signingKey: signing
        )
        #expect(throws: GroupError.chainExhausted) {
            try chain.encrypt(.text("x", sentAtMilliseconds: 0, random: SeededRandomSource(seed: "b")))
        }
        // Forge the message a hostile member would send at iteration 2^32 - 1.
        let header = GroupMessageHeader(room: "#r", sender: chain.owner, chainID: 1, iteration: UInt32.max)
        let ciphertext = [UInt8](repeating: 0, count: 48)
        let signature = try signing.signature(for: header.signedBytes(ciphertext: ciphertext))
        let bytes = header.wire(ciphertext: ciphertext, signature: Array(signature)).encodedBytes
        var receiver = try ReceivedSenderChain(chain.distribution, from: chain.owner)
        #expect(throws: DecryptionError.cannotDecrypt) { try receiver.decrypt(GroupMessage(serialized: bytes)) }
    }

    @Test("a manifest claiming an absurd size is refused before any arithmetic")
    func absurdManifestSize() {
        var wire = WireFileManifest()
        wire.name = "big"
        wire.size = UInt64.max
        wire.sha256 = Data(count: 32)
        wire.key = Data(count: 32)
        wire.chunkSize = 65536
        #expect(throws: FileError.malformedManifest) { try FileManifest(serialized: wire.serializedBytes() as [UInt8]) }
    }

    @Test("an identity using one RSA key for both roles is refused")
    func oneKeyBothRoles() {
        var wire = TestIdentities.alice.publicIdentity.wire
        wire.encryptionKey = wire.signingKey
        #expect(throws: IdentityError.self) { try PublicIdentity(wire: wire) }
    }

    @Test("the replay window drops repeats, evicts the oldest, and survives storage")
    func replayWindow() throws {
        var window = ReplayWindow(capacity: 3)
        let ids = (0..<4).map { [UInt8](repeating: UInt8($0), count: 16) }
        let first = window.insert(ids[0])
        let repeated = window.insert(ids[0])
        #expect(first && !repeated)
        for id in ids[1...] { window.insert(id) }
        #expect(!window.contains(ids[0]))
        let restored = try ReplayWindow(serialized: window.serialized(), capacity: 3)
        #expect(restored.contains(ids[3]) && restored.contains(ids[1]) && !restored.contains(ids[0]))
        #expect(throws: DecryptionError.malformed) { try ReplayWindow(serialized: window.serialized(), capacity: 2) }
    }

    @Test("room and file names are checked on the sending side too")
    func senderSideNames() throws {
        let random = SeededRandomSource(seed: "names")
        #expect(throws: GroupError.invalidRoomName) {
            try SenderChain.generate(room: String(repeating: "r", count: 65), owner: TestIdentities.alice.publicIdentity.fingerprint, random: random)
        }
        var encryptor = FileEncryptor(random: random)
        #expect(throws: FileError.malformedManifest) { try encryptor.finish(name: "") }
    }
}
