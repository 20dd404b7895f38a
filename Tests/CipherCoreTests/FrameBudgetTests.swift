import CipherCore
import CipherWire
import Foundation
import Testing

/// The largest things a conforming relay sends fit the bounds a client decodes them with: a room
/// of the most statements, each of the largest size (authors with 4096-bit keys come close),
/// reaches a member who joins.
@Suite("What a relay may send fits what a client accepts")
struct FrameBudgetTests {
    @Test("a whole chain of the most statements, each of the largest size, fits a room envelope and a frame")
    func largestChainFits() throws {
        let statement = Self.statement(ofSize: RoomStatement.maxSerializedSize)
        var envelope = WireRoomEnvelope()
        envelope.room = "#" + String(repeating: "r", count: Username.maxLength)
        envelope.sender = String(repeating: "s", count: Username.maxLength)
        envelope.chain = WireRoomChain.with { $0.statements = Array(repeating: statement, count: RoomChain.maxStatements) }
        let envelopeBytes: Data = try envelope.serializedBytes()
        #expect(envelopeBytes.count <= RoomChain.maxSerializedSize)
        let decoded = try WireRoomEnvelope(boundedBytes: envelopeBytes, maxSize: RoomChain.maxSerializedSize)
        #expect(decoded.chain.statements.count == RoomChain.maxStatements)

        var frame = WireServerFrame()
        frame.requestID = .max
        frame.delivery = WireDelivery.with {
            $0.deliveryID = .max
            $0.sender = envelope.room
            $0.clientMessageID = Data(repeating: 0xFF, count: 16)
            $0.acceptedAtMs = .max
            $0.envelope = envelopeBytes
        }
        let frameBytes: Data = try frame.serializedBytes()
        #expect(frameBytes.count <= ServerFrameLimit.maxSize, "a frame of \(frameBytes.count) bytes")
        _ = try WireServerFrame(boundedBytes: frameBytes, maxSize: ServerFrameLimit.maxSize)
    }

    @Test("the figures PROTOCOL.md quotes are the ones in force")
    func quotedFigures() {
        #expect(RoomChain.maxSerializedSize == 8_393_728)
        #expect(ServerFrameLimit.maxSize == 8_394_752)
    }

    /// A statement whose encoding is exactly `size` bytes, every field at its longest.
    private static func statement(ofSize size: Int) -> WireRoomStatement {
        var statement = WireRoomStatement()
        statement.room = "#" + String(repeating: "r", count: Username.maxLength)
        statement.epoch = .max
        statement.previousHash = Data(repeating: 0xFF, count: 32)
        statement.action = .grantAdmin
        statement.author = String(repeating: "a", count: Username.maxLength)
        statement.subject = String(repeating: "b", count: Username.maxLength)
        statement.subjectFingerprint = Data(repeating: 0xFF, count: 32)
        let withoutSignature = (try? statement.serializedBytes() as Data)?.count ?? 0
        // The signature's field header: one byte of tag, two of length.
        statement.signature = Data(repeating: 0xFF, count: size - withoutSignature - 3)
        precondition((try? statement.serializedBytes() as Data)?.count == size)
        return statement
    }
}

@Suite("The ids a relay queues room deliveries under")
struct RoomDeliveryIDTests {
    @Test("the vectors of PROTOCOL.md 13.5")
    func vectors() {
        #expect(Hex.encode(RoomDeliveryID.message(room: "#team", sender: "alice", clientMessageID: Array(0..<16))) == "0d61428425b24f95987db16bcf0f1f81")
        #expect(Hex.encode(RoomDeliveryID.statement(hash: [UInt8](repeating: 0x11, count: 32))) == "231901a03eac9a88c538799766ed31fd")
    }

    @Test("a message's id depends on its room and sender; a message and a statement never share one for the same bytes")
    func namespaces() {
        let bytes = [UInt8](repeating: 0x5A, count: 16)
        let hash = bytes + bytes
        let ids = [
            RoomDeliveryID.message(room: "#team", sender: "alice", clientMessageID: bytes),
            RoomDeliveryID.message(room: "#team", sender: "bob", clientMessageID: bytes),
            RoomDeliveryID.message(room: "#other", sender: "alice", clientMessageID: bytes),
            RoomDeliveryID.statement(hash: hash),
            Array(hash.prefix(16)),
        ]
        #expect(Set(ids).count == ids.count)
    }
}
