import CipherTesting
import CipherWire
import Foundation
import Testing
@testable import CipherCore

@Suite("Identities, fingerprints and safety numbers")
struct IdentityTests {
    let alice = TestIdentities.alice.publicIdentity
    let bob = TestIdentities.bob.publicIdentity
    let mallory = TestIdentities.mallory.publicIdentity

    @Test("a fingerprint is the SHA-256 of the signing key, shown in sixteen groups of four")
    func fingerprintFormat() {
        let display = alice.fingerprint.displayString
        #expect(display.split(separator: " ").count == 16)
        #expect(display.split(separator: " ").allSatisfy { $0.count == 4 })
        #expect(display.replacingOccurrences(of: " ", with: "").hasPrefix(alice.fingerprint.shortID))
        #expect(alice.fingerprint.shortID.count == 16)
        #expect(alice.fingerprint != bob.fingerprint)
    }

    @Test("both users see the same safety number, in twelve groups of five")
    func safetyNumberSymmetric() {
        let fromAlice = SafetyNumber(local: alice, localUsername: "alice", remote: bob, remoteUsername: "bob")
        let fromBob = SafetyNumber(local: bob, localUsername: "bob", remote: alice, remoteUsername: "alice")
        #expect(fromAlice == fromBob)
        #expect(fromAlice.digits.count == 60)
        #expect(fromAlice.digits.allSatisfy { $0.isNumber })
        #expect(fromAlice.description.split(separator: " ").count == 12)
        #expect(fromAlice.matches(fromAlice.description))
        #expect(fromAlice.matches(fromAlice.digits))
        var wrong = Array(fromAlice.digits)
        wrong[59] = wrong[59] == "0" ? "1" : "0"
        #expect(!fromAlice.matches(String(wrong)))
    }

    @Test("a substituted identity key changes the fingerprint and the safety number")
    func substitutedKey() {
        let genuine = SafetyNumber(local: alice, localUsername: "alice", remote: bob, remoteUsername: "bob")
        let substituted = SafetyNumber(local: alice, localUsername: "alice", remote: mallory, remoteUsername: "bob")
        #expect(genuine != substituted)
        #expect(bob.fingerprint != mallory.fingerprint)
        let renamed = SafetyNumber(local: alice, localUsername: "alice", remote: bob, remoteUsername: "bob2")
        #expect(genuine != renamed)
    }

    @Test("a private identity survives serialization")
    func privateIdentityRoundTrip() throws {
        let restored = try PrivateIdentity(serialized: TestIdentities.alice.serialized())
        #expect(restored.publicIdentity == alice)
        let statement = Array("statement".utf8)
        #expect(alice.isValidSignature(try restored.sign(statement), over: statement))
    }

    @Test("a public identity is refused unless its key is canonical DER")
    func nonCanonicalDER() {
        var wire = alice.wire
        wire.signingKey.append(0)
        #expect(throws: IdentityError.self) { try PublicIdentity(wire: wire) }
    }

    @Test("descriptions of secret-holding values show no key material")
    func redaction() throws {
        let random = SeededRandomSource(seed: "redaction")
        let user = try TestUser(name: "alice", identity: TestIdentities.alice, random: random)
        let conversation = try Conversation(seed: "redaction")
        let chain = try SenderChain.generate(room: "#r", owner: alice.fingerprint, random: random)
        var encryptor = FileEncryptor(random: random)
        let (_, manifest) = try encryptor.finish(name: "f")
        let secrets: [(String, [[UInt8]])] = [
            (String(describing: user.identity), []),
            (String(reflecting: user.identity), []),
            (String(describing: user.signedPrekey), [user.signedPrekey.privateKeyBytes]),
            (String(describing: user.postQuantumPrekey), [user.postQuantumPrekey.seed]),
            (String(describing: user.oneTimePrekeys[0]), [user.oneTimePrekeys[0].privateKeyBytes]),
            (String(describing: conversation.aliceSession), [conversation.aliceSession.ratchet.rootKey.bytes]),
            (String(describing: chain), [chain.chainKey.key.bytes]),
            (String(describing: chain.distribution), [chain.distribution.chainKey]),
            (String(describing: manifest), [manifest.key]),
        ]
        for (text, keys) in secrets {
            #expect(text.contains("redacted"), "\(text)")
            for key in keys {
                #expect(!text.lowercased().contains(Hex.encode(key).prefix(16)))
            }
        }
    }
}
