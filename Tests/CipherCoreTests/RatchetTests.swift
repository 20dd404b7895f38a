import CipherTesting
import CipherWire
import Foundation
import Testing
@testable import CipherCore

@Suite("Double Ratchet")
struct RatchetTests {
    @Test("messages round-trip both ways over many turns of the DH ratchet")
    func manyTurns() throws {
        var conversation = try Conversation(seed: "many-turns")
        let random = SeededRandomSource(seed: "turn-lengths")
        for turn in 0..<60 {
            let burst = Int(random.bytes(1)[0] % 4) + 1
            for index in 0..<burst {
                let text = "turn \(turn) message \(index) " + String(repeating: "x", count: Int(random.bytes(1)[0]))
                if turn % 2 == 0 {
                    #expect(try conversation.bobReceives(conversation.aliceSends(text)) == text)
                } else {
                    #expect(try conversation.aliceReceives(conversation.bobSends(text)) == text)
                }
            }
        }
    }

    @Test("a replayed message does not decrypt, and the session goes on")
    func replayRejected() throws {
        var conversation = try Conversation(seed: "replay")
        _ = try conversation.aliceReceives(conversation.bobSends("reply"))
        let envelope = try conversation.aliceSends("once")
        #expect(try conversation.bobReceives(envelope) == "once")
        #expect(throws: DecryptionError.cannotDecrypt) { try conversation.bobReceives(envelope) }
        #expect(try conversation.bobReceives(conversation.aliceSends("still fine")) == "still fine")
    }

    @Test("every single-byte change to a ratchet message, header included, is rejected and leaves the session intact")
    func everyByteFlipRejected() throws {
        var conversation = try Conversation(seed: "flips")
        _ = try conversation.aliceReceives(conversation.bobSends("reply"))
        let envelope = try conversation.aliceSends("tamper with me")
        for index in envelope.indices {
            var altered = envelope
            altered[index] ^= 0x01
            var bob = conversation.bobSession
            #expect(throws: (any Error).self, "byte \(index)") {
                try bob.decrypt(SessionEnvelope(serialized: altered), random: conversation.random)
            }
        }
        #expect(try conversation.bobReceives(envelope) == "tamper with me")
    }

    @Test("each header field is authenticated")
    func headerFieldsAuthenticated() throws {
        var conversation = try Conversation(seed: "header-fields")
        _ = try conversation.aliceReceives(conversation.bobSends("reply"))
        let envelope = try conversation.aliceSends("header")
        let original = try WireSessionEnvelope(serializedBytes: envelope)
        var changes: [(String, WireSessionEnvelope)] = []
        var numberChanged = original
        numberChanged.ratchet.messageNumber += 1
        changes.append(("message number", numberChanged))
        var previousChanged = original
        previousChanged.ratchet.previousChainLength += 1
        changes.append(("previous chain length", previousChanged))
        var keyChanged = original
        keyChanged.ratchet.ratchetKey = Data(conversation.random.bytes(32))
        changes.append(("ratchet key", keyChanged))
        for (field, change) in changes {
            var bob = conversation.bobSession
            #expect(throws: DecryptionError.self, "\(field)") {
                try bob.decrypt(SessionEnvelope(serialized: change.serializedBytes() as [UInt8]), random: conversation.random)
            }
        }
        #expect(try conversation.bobReceives(envelope) == "header")
    }

    @Test("seeded random delivery orders within the skip bound all decrypt", arguments: 0..<4)
    func outOfOrderDelivery(seed: Int) throws {
        var conversation = try Conversation(seed: "out-of-order-\(seed)")
        _ = try conversation.aliceReceives(conversation.bobSends("reply"))
        var sent: [(text: String, envelope: [UInt8])] = []
        // Three sending chains from Alice, interleaved with Bob's replies that she reads,
        // so messages from old chains arrive after a DH ratchet step.
        for chain in 0..<3 {
            for index in 0..<15 {
                let text = "chain \(chain) message \(index)"
                sent.append((text, try conversation.aliceSends(text)))
            }
            _ = try conversation.aliceReceives(conversation.bobSends("tick \(chain)"))
        }
        for message in shuffled(sent, random: SeededRandomSource(seed: "order-\(seed)")) {
            #expect(try conversation.bobReceives(message.envelope) == message.text)
        }
    }

    @Test("a message further ahead than the skip bound fails cleanly; one at the bound decrypts")
    func skipBound() throws {
        var conversation = try Conversation(seed: "skip-bound")
        _ = try conversation.aliceReceives(conversation.bobSends("reply"))
        var envelopes: [[UInt8]] = []
        for index in 0...Int(SkippedMessageKeys.maxSkipPerChain) + 1 {
            envelopes.append(try conversation.aliceSends("m\(index)"))
        }
        let beyond = envelopes[Int(SkippedMessageKeys.maxSkipPerChain) + 1]
        #expect(throws: DecryptionError.tooFarAhead) { try conversation.bobReceives(beyond) }
        let atBound = envelopes[Int(SkippedMessageKeys.maxSkipPerChain)]
        #expect(try conversation.bobReceives(atBound) == "m\(SkippedMessageKeys.maxSkipPerChain)")
        #expect(try conversation.bobReceives(envelopes[0]) == "m0")
        #expect(try conversation.bobReceives(beyond) == "m\(SkippedMessageKeys.maxSkipPerChain + 1)")
    }

    @Test("forward secrecy: a state captured later cannot decrypt ciphertext captured earlier")
    func forwardSecrecy() throws {
        var conversation = try Conversation(seed: "forward-secrecy")
        _ = try conversation.aliceReceives(conversation.bobSends("reply"))
        let early = try conversation.aliceSends("early secret")
        let skippedEarly = try conversation.aliceSends("skipped early secret")
        #expect(try conversation.bobReceives(early) == "early secret")
        for turn in 0..<3 {
            _ = try conversation.aliceReceives(conversation.bobSends("b\(turn)"))
            _ = try conversation.bobReceives(conversation.aliceSends("a\(turn)"))
        }
        _ = try conversation.bobReceives(skippedEarly)
        // The attacker now steals Bob's entire stored state, and both RSA keys with it.
        var stolen = try Session(serializedState: conversation.bobSession.serializedState())
        #expect(throws: DecryptionError.self) { try stolen.decrypt(SessionEnvelope(serialized: early), random: conversation.random) }
        #expect(throws: DecryptionError.self) { try stolen.decrypt(SessionEnvelope(serialized: skippedEarly), random: conversation.random) }
    }

    @Test("post-compromise recovery: after one DH round trip a stolen state cannot read new messages")
    func postCompromiseRecovery() throws {
        var conversation = try Conversation(seed: "post-compromise")
        _ = try conversation.aliceReceives(conversation.bobSends("reply"))
        var stolen = try Session(serializedState: conversation.aliceSession.serializedState())
        let attacker = SeededRandomSource(seed: "attacker")

        // The attacker sees all traffic. Alice's current ratchet key is in the stolen state, so
        // Bob's answer to it is still readable...
        _ = try conversation.bobReceives(conversation.aliceSends("exposed"))
        let exposed = try conversation.bobSends("still exposed")
        #expect(try stolen.decrypt(SessionEnvelope(serialized: exposed), random: attacker).text == "still exposed")
        #expect(try conversation.aliceReceives(exposed) == "still exposed")

        // ...but once Alice has sent from a ratchet key made after the theft and Bob has answered
        // it, Bob's messages are out of reach.
        _ = try conversation.bobReceives(conversation.aliceSends("fresh ratchet key"))
        let healed = try conversation.bobSends("healed")
        #expect(throws: DecryptionError.self) { try stolen.decrypt(SessionEnvelope(serialized: healed), random: attacker) }
        #expect(try conversation.aliceReceives(healed) == "healed")
    }

    @Test("a session survives storage mid-conversation, skipped keys included")
    func storageRoundTrip() throws {
        var conversation = try Conversation(seed: "storage")
        let pendingFirst = try conversation.aliceSends("before reply")
        conversation.aliceSession = try Session(serializedState: conversation.aliceSession.serializedState())
        #expect(conversation.aliceSession.isAwaitingReply)
        #expect(try conversation.bobReceives(pendingFirst) == "before reply")
        _ = try conversation.aliceReceives(conversation.bobSends("reply"))
        let late = try conversation.aliceSends("late")
        let onTime = try conversation.aliceSends("on time")
        #expect(try conversation.bobReceives(onTime) == "on time")
        conversation.bobSession = try Session(serializedState: conversation.bobSession.serializedState())
        #expect(try conversation.bobReceives(late) == "late")
        #expect(try conversation.aliceReceives(conversation.bobSends("after restore")) == "after restore")
    }

    @Test("the total number of stored skipped keys is bounded, oldest evicted first")
    func totalSkippedBound() throws {
        var keys = SkippedMessageKeys()
        let key = SymmetricKeyFixture.make()
        for index in 0..<(SkippedMessageKeys.maxTotal + 10) {
            keys.insert(key, for: .init(ratchetKey: [UInt8(index % 7)], messageNumber: UInt32(index)))
        }
        #expect(keys.count == SkippedMessageKeys.maxTotal)
        #expect(keys.take(.init(ratchetKey: [0], messageNumber: 0)) == nil)
        #expect(keys.take(.init(ratchetKey: [UInt8(2009 % 7)], messageNumber: 2009)) != nil)
    }
}
