import CipherCore
import Foundation

/// Two users made once at the start of a run: real RSA-2048 identities and fresh prekeys, so
/// the handshake and ratchet figures use the same key sizes as production.
struct BenchParties: Sendable {
    let random = SystemRandomSource()
    let alice: PrivateIdentity
    let aliceSignedPrekey: SignedPrekeyPair
    let bob: PrivateIdentity
    let bobSignedPrekey: SignedPrekeyPair
    let bobPostQuantumPrekey: PostQuantumPrekeyPair
    let bobOneTimePrekey: OneTimePrekeyPair

    static func generate() throws -> BenchParties {
        let random = SystemRandomSource()
        let now = UInt64(Date().timeIntervalSince1970)
        let alice = try PrivateIdentity.generate()
        let bob = try PrivateIdentity.generate()
        return BenchParties(
            alice: alice,
            aliceSignedPrekey: try .generate(id: 1, createdAt: now, identity: alice, random: random),
            bob: bob,
            bobSignedPrekey: try .generate(id: 1, createdAt: now, identity: bob, random: random),
            bobPostQuantumPrekey: try .generate(id: 1, createdAt: now, identity: bob, random: random),
            bobOneTimePrekey: try .generate(id: 1, random: random)
        )
    }

    /// What Alice fetches from the directory to start a session with Bob.
    var bobBundle: PrekeyBundle {
        PrekeyBundle(
            identity: bob.publicIdentity, signedPrekey: bobSignedPrekey.publicPrekey,
            postQuantumPrekey: bobPostQuantumPrekey.publicPrekey, oneTimePrekey: bobOneTimePrekey.publicPrekey
        )
    }

    /// A text payload of exactly `size` bytes of content, with a fresh message id.
    func textPayload(size: Int) -> Payload {
        Payload(
            kind: .text, content: [UInt8](repeating: UInt8(ascii: "m"), count: size),
            sentAtMilliseconds: 1_700_000_000_000, random: random
        )
    }
}

/// A figure came out wrong: the bench measured something other than what it claims.
struct BenchFailure: Error, CustomStringConvertible {
    let description: String
}
