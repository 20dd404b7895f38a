import ArgumentParser
import CipherCore
import Foundation

/// Runs the protocol end to end in one process and prints what each party sees and what a
/// relay would hold: ciphertext only.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Show CipherChat's protocol at work: two users, a session, a room and a file.",
        discussion: """
            Creates fresh identities for alice, bob and carol; alice starts a session with bob \
            from his prekey bundle while he is offline; they exchange messages both ways; the three \
            talk in a room, carol is removed and can no longer read it; alice sends bob a file. \
            Every line marked 'relay sees' is exactly what would cross the network.
            """
    )

    func run() throws {
        let random = SystemRandomSource()
        var demo = DemoPrinter()

        demo.section("Identities (RSA-2048 signing + encryption keys)")
        let alice = try DemoUser(name: "alice", random: random)
        let bob = try DemoUser(name: "bob", random: random)
        let carol = try DemoUser(name: "carol", random: random)
        for user in [alice, bob, carol] {
            demo.line("\(user.name): fingerprint \(user.identity.publicIdentity.fingerprint.displayString)")
        }
        let safety = SafetyNumber(
            local: alice.identity.publicIdentity, localUsername: "alice",
            remote: bob.identity.publicIdentity, remoteUsername: "bob"
        )
        demo.line("alice and bob's safety number: \(safety)")

        demo.section("A session started while bob is offline")
        let bundle = try PrekeyBundle(serialized: bob.bundle.serialized)
        demo.line("alice fetched and verified bob's prekey bundle (\(bob.bundle.serialized.count) bytes)")
        var aliceSession = try Session.initiate(
            identity: alice.identity, signedPrekey: alice.signedPrekey, bundle: bundle, random: random
        )
        var queuedForBob: [[UInt8]] = []
        for text in ["hi bob, are you there?", "call me when you're back"] {
            let envelope = try aliceSession.encrypt(.text(text, sentAtMilliseconds: now(), random: random))
            queuedForBob.append(envelope)
            demo.relay(envelope, note: "alice -> bob, queued while bob is offline")
        }
        demo.line("bob comes online and reads his queue:")
        guard case .prekey(let prekey) = try SessionEnvelope(serialized: queuedForBob[0]) else { return }
        var (bobSession, first) = try Session.accept(
            prekey, identity: bob.identity, signedPrekey: bob.signedPrekey, postQuantumPrekey: bob.postQuantumPrekey,
            oneTimePrekey: bob.oneTimePrekey, random: random
        )
        demo.message(from: "alice", to: "bob", first)
        demo.message(from: "alice", to: "bob", try bobSession.decrypt(SessionEnvelope(serialized: queuedForBob[1]), random: random))

        let reply = try bobSession.encrypt(.text("back now. the ratchet has turned.", sentAtMilliseconds: now(), random: random))
        demo.relay(reply, note: "bob -> alice")
        demo.message(from: "bob", to: "alice", try aliceSession.decrypt(SessionEnvelope(serialized: reply), random: random))
        let replay = Result { try aliceSession.decrypt(SessionEnvelope(serialized: reply), random: random) }
        if case .failure(let error) = replay { demo.line("the same envelope delivered again: \(error)") }

        demo.section("Room #team with sender keys")
        var room = DemoRoom(name: "#team", members: [alice, bob, carol])
        try room.rotateAll(random: random)
        let hello = try room.send(from: "alice", "welcome to #team", random: random)
        for reader in ["bob", "carol"] { demo.message(from: "alice", to: reader, try room.read(hello, by: reader, from: "alice")) }
        room.remove("carol")
        try room.rotateAll(random: random)
        demo.line("carol is removed; alice and bob make fresh chains and share them only with each other")
        let secret = try room.send(from: "alice", "carol can't read this", random: random)
        demo.message(from: "alice", to: "bob", try room.read(secret, by: "bob", from: "alice"))
        demo.line("carol tries: \(room.attempt(secret, by: "carol", from: "alice"))")

        demo.section("A file, encrypted in 64 KiB chunks")
        let fileBytes = random.bytes(1 << 20)
        var encryptor = FileEncryptor(random: random)
        var chunks: [[UInt8]] = []
        try encryptor.append(fileBytes) { chunks.append($0) }
        let (finalChunk, manifest) = try encryptor.finish(name: "report.pdf")
        chunks.append(finalChunk)
        let manifestEnvelope = try aliceSession.encrypt(
            Payload(kind: .fileManifest, content: manifest.serialized, sentAtMilliseconds: now(), random: random)
        )
        demo.relay(manifestEnvelope, note: "alice -> bob, the manifest (name, size, SHA-256, key)")
        demo.line("relay stores \(chunks.count) encrypted chunks, \(chunks.reduce(0) { $0 + $1.count }) bytes")
        let received = try bobSession.decrypt(SessionEnvelope(serialized: manifestEnvelope), random: random)
        var decryptor = FileDecryptor(manifest: try FileManifest(serialized: received.content))
        var decrypted: [UInt8] = []
        decrypted.reserveCapacity(fileBytes.count)
        for chunk in chunks { decrypted += try decryptor.open(chunk) }
        try decryptor.finish()
        demo.line("bob decrypted \(decryptor.manifest.name): \(decrypted.count) bytes, SHA-256 verified, identical: \(decrypted == fileBytes)")
    }

    private func now() -> UInt64 { UInt64(Date().timeIntervalSince1970 * 1000) }
}
