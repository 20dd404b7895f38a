import CipherCore
import CipherWire

/// The room parsers (PROTOCOL.md 8 and 13): a group message, decrypted by Alice's sender chain
/// of PROTOCOL.md 11.5 as another member holds it (a message that decrypts must not decrypt a
/// second time); a room statement, applied to `#vectors` as created in 11.7 (or starting a room,
/// if it is a creation); a room's chain as the relay hands it over, replayed from its start; a
/// sender key distribution, taken as the chain of a member.
///
/// Control byte: which of the four (modulo 4).
enum GroupEntry {
    static func run(_ bytes: [UInt8], _ outcome: inout FuzzOutcome) {
        var input = FuzzInput(bytes)
        let kind = input.byte() % 4
        let body = input.rest
        switch kind {
        case 0:
            guard let message = try? GroupMessage(serialized: body) else { return }
            outcome.accepted = true
            receive(message, &outcome)
        case 1:
            guard let statement = try? RoomStatement(serialized: body) else { return }
            outcome.accepted = true
            if statement.action == .create {
                outcome.completed = (try? RoomMembership(creation: statement)) != nil
            } else {
                outcome.completed = (try? FuzzFixtures.shared.createdRoom.applying(statement)) != nil
            }
        case 2:
            let limit = RoomChain.maxSerializedSize
            guard let chain = try? WireRoomChain(boundedBytes: body, maxSize: limit),
                  let statements = try? RoomChain.statements(of: chain) else { return }
            outcome.accepted = true
            outcome.completed = (try? RoomMembership(replaying: statements)) != nil
        default:
            guard let distribution = try? SenderKeyDistribution(serialized: body) else { return }
            outcome.accepted = true
            outcome.completed = (try? ReceivedSenderChain(distribution, from: FuzzFixtures.shared.alice.publicIdentity.fingerprint)) != nil
        }
    }

    static func receive(_ message: GroupMessage, _ outcome: inout FuzzOutcome) {
        var receiver = FuzzFixtures.shared.groupReceiver
        guard (try? receiver.decrypt(message)) != nil else { return }
        outcome.completed = true
        outcome.check((try? receiver.decrypt(message)) == nil, "a group message decrypted twice")
    }
}
