import CipherCore
import Foundation

/// One user of the demo with an identity and a fresh set of prekeys.
struct DemoUser {
    let name: String
    let identity: PrivateIdentity
    let signedPrekey: SignedPrekeyPair
    let postQuantumPrekey: PostQuantumPrekeyPair
    let oneTimePrekey: OneTimePrekeyPair

    init(name: String, random: some RandomSource) throws {
        self.name = name
        identity = try PrivateIdentity.generate()
        let created = UInt64(Date().timeIntervalSince1970)
        signedPrekey = try .generate(id: 1, createdAt: created, identity: identity, random: random)
        postQuantumPrekey = try .generate(id: 1, createdAt: created, identity: identity, random: random)
        oneTimePrekey = try .generate(id: 1, random: random)
    }

    var bundle: PrekeyBundle {
        PrekeyBundle(
            identity: identity.publicIdentity, signedPrekey: signedPrekey.publicPrekey,
            postQuantumPrekey: postQuantumPrekey.publicPrekey, oneTimePrekey: oneTimePrekey.publicPrekey
        )
    }
}

/// A room as the members' clients see it: each member's own chain and the chains it received.
/// Distribution here is direct; in CipherChat it travels inside pairwise sessions.
struct DemoRoom {
    let name: String
    private(set) var members: [DemoUser]
    private var own: [String: SenderChain] = [:]
    private var received: [String: [String: ReceivedSenderChain]] = [:]

    init(name: String, members: [DemoUser]) {
        self.name = name
        self.members = members
    }

    mutating func remove(_ member: String) {
        members.removeAll { $0.name == member }
    }

    /// Every current member makes a fresh chain and hands it to every other current member.
    mutating func rotateAll(random: some RandomSource) throws {
        for member in members {
            let chain = try SenderChain.generate(room: name, owner: member.identity.publicIdentity.fingerprint, random: random)
            own[member.name] = chain
            for other in members where other.name != member.name {
                received[other.name, default: [:]][member.name] = try ReceivedSenderChain(
                    chain.distribution, from: member.identity.publicIdentity.fingerprint
                )
            }
        }
    }

    mutating func send(from member: String, _ text: String, random: some RandomSource) throws -> [UInt8] {
        try own[member]!.encrypt(.text(text, sentAtMilliseconds: 0, random: random))
    }

    mutating func read(_ message: [UInt8], by reader: String, from sender: String) throws -> Payload {
        guard var chain = received[reader]?[sender] else { throw DecryptionError.cannotDecrypt }
        let payload = try chain.decrypt(GroupMessage(serialized: message))
        received[reader]![sender] = chain
        return payload
    }

    mutating func attempt(_ message: [UInt8], by reader: String, from sender: String) -> String {
        do {
            return "read \"\(try read(message, by: reader, from: sender).text)\""
        } catch {
            return "\(error)"
        }
    }
}

/// Formats the demo's output.
struct DemoPrinter {
    mutating func section(_ title: String) {
        print("\n== \(title)")
    }

    func line(_ text: String) {
        print("   \(text)")
    }

    func message(from sender: String, to reader: String, _ payload: Payload) {
        print("   \(reader) reads from \(sender): \"\(payload.text)\"")
    }

    func relay(_ envelope: [UInt8], note: String) {
        print("   relay sees (\(note)): \(envelope.count) bytes \(Hex.encode(envelope.suffix(24)))…")
    }
}
