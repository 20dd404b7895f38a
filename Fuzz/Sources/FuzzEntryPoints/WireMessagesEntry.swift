import CipherCore
import CipherRelay
import CipherWire

/// Every Protocol Buffers decode of untrusted bytes, each under the limit its caller sets: the
/// frames the relay and the client read, the room envelope, identities, and the state a client
/// reads back from its store. A decode over its limit must be refused before any parsing. What
/// a frame carries then goes where the relay or the client sends it: names to their validators,
/// identities and prekeys to their signature checks, statements to the room rules, text to the
/// terminal filter.
///
/// Control byte: which decoder (modulo their number).
enum WireMessagesEntry {
    private enum Decoder: CaseIterable {
        case clientFrame, serverFrame, roomEnvelope, publicIdentity, privateIdentity, sessionState
        case replayWindow, senderChainState, receivedSenderChainState, senderKeyDistribution
        case decryptionFailureNotice
    }

    static func run(_ bytes: [UInt8], _ outcome: inout FuzzOutcome) {
        var input = FuzzInput(bytes)
        let decoder = Decoder.allCases[Int(input.byte()) % Decoder.allCases.count]
        let body = input.rest
        switch decoder {
        case .clientFrame:
            let limit = RelayConfiguration().maxFrameSize
            let frame = bounded(body, limit: limit, &outcome) { () throws(WireDecodingError) in
                try WireClientFrame(boundedBytes: body, maxSize: limit)
            }
            if let frame { checkAsTheRelayDoes(frame, &outcome) }
            outcome.accepted = frame != nil
        case .serverFrame:
            let limit = ServerFrameLimit.maxSize
            let frame = bounded(body, limit: limit, &outcome) { () throws(WireDecodingError) in
                try WireServerFrame(boundedBytes: body, maxSize: limit)
            }
            if let frame { checkAsTheClientDoes(frame, &outcome) }
            outcome.accepted = frame != nil
        case .roomEnvelope:
            let limit = RoomChain.maxSerializedSize
            let envelope = bounded(body, limit: limit, &outcome) { () throws(WireDecodingError) in
                try WireRoomEnvelope(boundedBytes: body, maxSize: limit)
            }
            if let envelope { checkRoomEnvelope(envelope, &outcome) }
            outcome.accepted = envelope != nil
        case .publicIdentity:
            outcome.accepted = (try? PublicIdentity(serialized: body)) != nil
        case .privateIdentity:
            outcome.accepted = (try? PrivateIdentity(serialized: body)) != nil
        case .sessionState:
            outcome.accepted = (try? Session(serializedState: body)) != nil
        case .replayWindow:
            outcome.accepted = (try? ReplayWindow(serialized: body)) != nil
        case .senderChainState:
            outcome.accepted = (try? SenderChain(serializedState: body)) != nil
        case .receivedSenderChainState:
            outcome.accepted = (try? ReceivedSenderChain(serializedState: body)) != nil
        case .senderKeyDistribution:
            outcome.accepted = (try? SenderKeyDistribution(serialized: body)) != nil
        case .decryptionFailureNotice:
            let notice = try? DecryptionFailureNotice(decoding: Array(body))
            if let notice {
                outcome.check(
                    (1...DecryptionFailureNotice.maxDigests).contains(notice.envelopeDigests.count)
                        && notice.envelopeDigests.allSatisfy { $0.count == DecryptionFailureNotice.digestSize },
                    "a notice of \(notice.envelopeDigests.count) digests accepted"
                )
            }
            outcome.accepted = notice != nil
        }
    }

    /// Decodes with `decode`, and checks that an input over `limit` was refused as too large.
    private static func bounded<Message>(
        _ body: ArraySlice<UInt8>, limit: Int, _ outcome: inout FuzzOutcome, _ decode: () throws(WireDecodingError) -> Message
    ) -> Message? {
        do {
            let message = try decode()
            outcome.check(body.count <= limit, "\(Message.self) of \(body.count) bytes decoded over its limit of \(limit)")
            return message
        } catch {
            if body.count > limit {
                outcome.check(error == .tooLarge(error.messageName, limit: limit), "\(Message.self) over its limit refused as \(error)")
            }
            return nil
        }
    }

    /// What the relay checks in a frame before it acts on it (RelayConnection and its
    /// extensions): names, the signed registration, published prekeys against the account's
    /// identity (Bob's here), room statements.
    static func checkAsTheRelayDoes(_ frame: WireClientFrame, _ outcome: inout FuzzOutcome) {
        switch frame.body {
        case .register(let register):
            _ = Username.isValid(register.username)
            if let identity = try? PublicIdentity(wire: register.identity) {
                _ = RelayAuthentication.verify(
                    Array(register.signature), purpose: .register, nonce: [UInt8](repeating: 0, count: RelayAuthentication.nonceSize),
                    username: register.username, serverCertificateHash: [UInt8](repeating: 0, count: 32), identity: identity
                )
            }
        case .login(let login):
            _ = Username.isValid(login.username)
        case .publishPrekeys(let publish):
            let owner = FuzzFixtures.shared.bob.publicIdentity
            if publish.hasSignedPrekey { _ = try? SignedPrekey(wire: publish.signedPrekey, owner: owner) }
            if publish.hasPostQuantumPrekey { _ = try? PostQuantumPrekey(wire: publish.postQuantumPrekey, owner: owner) }
            for oneTime in publish.oneTimePrekeys { _ = try? OneTimePrekey(wire: oneTime) }
        case .fetchBundle(let fetch):
            _ = Username.isValid(fetch.username)
        case .send(let send):
            _ = Username.isValid(send.recipient)
        case .roomChange(let change):
            if RoomName.isValid(change.statement.room), let statement = try? RoomStatement(wire: change.statement) {
                _ = try? FuzzFixtures.shared.createdRoom.applying(statement)
                _ = RoomDeliveryID.statement(hash: statement.hash)
            }
        case .roomSend(let send):
            if RoomName.isValid(send.room) {
                _ = RoomDeliveryID.message(room: send.room, sender: "alice", clientMessageID: send.clientMessageID)
            }
        case .fetchRoom(let fetch):
            _ = RoomName.isValid(fetch.room)
        case .blobUploadStart(let start):
            for recipient in start.recipients { _ = Username.isValid(recipient) }
        case .acknowledge, .ping, .blobChunkUpload, .blobUploadFinish, .blobChunkRequest, .blobReceived, nil:
            break
        }
    }

    /// What the client does with a frame from the relay (ChatClient and its extensions): a
    /// bundle is checked, a delivery's envelope decoded (a room's or a session's, by its sender),
    /// a room's chain checked statement by statement, and text made safe to show.
    static func checkAsTheClientDoes(_ frame: WireServerFrame, _ outcome: inout FuzzOutcome) {
        switch frame.body {
        case .bundle(let bundle):
            _ = Username.isValid(bundle.username)
            if let checked = try? PrekeyBundle(wire: bundle.bundle) { SessionMessagesEntry.initiate(with: checked, &outcome) }
        case .delivery(let delivery):
            checkShown(TerminalText.spelled(delivery.sender), &outcome)
            if delivery.sender.first == RoomName.prefix {
                guard RoomName.isValid(delivery.sender) else { return }
                let limit = RoomChain.maxSerializedSize
                if let envelope = try? WireRoomEnvelope(boundedBytes: delivery.envelope, maxSize: limit) {
                    checkRoomEnvelope(envelope, &outcome)
                }
            } else if Username.isValid(delivery.sender), let envelope = try? SessionEnvelope(serialized: delivery.envelope) {
                SessionMessagesEntry.receive(envelope, &outcome)
            }
        case .error(let error):
            checkShown(TerminalText.line(error.message), &outcome)
            checkShown(TerminalText.line(error.limit), &outcome)
        case .roomState(let state):
            if RoomName.isValid(state.room), let statements = try? RoomChain.statements(of: state.chain) {
                _ = try? RoomMembership(replaying: statements)
            }
        case .welcome(let welcome):
            checkShown(TerminalText.spelled(welcome.username), &outcome)
        case .challenge, .sendAccepted, .prekeysLow, .goingAway, .pong, .done, .roomChangeAccepted, .blobUploadStatus,
             .blobChunkStored, .blobChunk, nil:
            break
        }
    }

    static func checkRoomEnvelope(_ envelope: WireRoomEnvelope, _ outcome: inout FuzzOutcome) {
        switch envelope.body {
        case .groupMessage(let bytes):
            if let message = try? GroupMessage(serialized: bytes) { GroupEntry.receive(message, &outcome) }
        case .chain(let chain):
            if let statements = try? RoomChain.statements(of: chain) { _ = try? RoomMembership(replaying: statements) }
        case nil:
            break
        }
    }

    /// Text from a peer or the relay, as shown: one line, no scalar the terminal filter calls unsafe.
    static func checkShown(_ shown: String, _ outcome: inout FuzzOutcome) {
        outcome.check(
            !shown.unicodeScalars.contains(where: TerminalText.isUnsafe), "unsafe text reached the terminal: \(shown.debugDescription)"
        )
        outcome.check(!shown.contains("\n") && !shown.contains("\r"), "a line break reached a one-line output")
    }
}
