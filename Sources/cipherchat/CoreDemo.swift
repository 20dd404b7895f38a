import CipherCore
import Foundation

/// The core's rooms (sender keys) and files (STREAM) end to end in one process.
enum CoreDemo {
    static func run() throws {
        let random = SystemRandomSource()
        var demo = DemoPrinter()

        demo.section("Rooms and files, in the core (one process, no relay)")
        let alice = try DemoUser(name: "alice", random: random)
        let bob = try DemoUser(name: "bob", random: random)
        let carol = try DemoUser(name: "carol", random: random)
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
        demo.line("the manifest (name, size, SHA-256, key) travels inside a ratchet message: \(manifest.serialized.count) bytes")
        demo.line("relay stores \(chunks.count) encrypted chunks, \(chunks.reduce(0) { $0 + $1.count }) bytes")
        let received = Payload(kind: .fileManifest, content: manifest.serialized, sentAtMilliseconds: now(), random: random)
        var decryptor = FileDecryptor(manifest: try FileManifest(serialized: received.content))
        var decrypted: [UInt8] = []
        decrypted.reserveCapacity(fileBytes.count)
        for chunk in chunks { decrypted += try decryptor.open(chunk) }
        try decryptor.finish()
        demo.line("bob decrypted \(decryptor.manifest.name): \(decrypted.count) bytes, SHA-256 verified, identical: \(decrypted == fileBytes)")
    }

    private static func now() -> UInt64 { UInt64(Date().timeIntervalSince1970 * 1000) }
}
