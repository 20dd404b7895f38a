import CipherCore
import CipherWire
import Foundation

extension ChatClient {
    /// Encrypts `text` for `recipient` and returns once the relay has stored it durably. The
    /// envelope waits in the outbox meanwhile, and is resent after a reconnect.
    @discardableResult
    public func send(_ text: String, to recipient: String) async throws -> ChatRecord {
        guard Username.isValid(recipient) else { throw ClientError.invalidUsername(recipient) }
        guard text.utf8.count <= Payload.maxContentSize else { throw ClientError.messageTooLong(Payload.maxContentSize) }
        let payload = Payload.text(text, sentAtMilliseconds: Self.nowMilliseconds, random: random)
        let (entry, record) = try await sealForSending(payload, to: recipient, kind: "text", text: text)
        try await deliver(entry)
        return record
    }

    /// Sends an outbox entry until the relay accepts it, across reconnects; a definite refusal
    /// removes it from the outbox and is thrown. An entry for a room (its recipient `#name`,
    /// its envelope a group message) goes as `RoomSend`, any other as `SendEnvelope`.
    func deliver(_ entry: OutboxEntry) async throws {
        let request: WireClientFrame.OneOf_Body
        if entry.recipient.first == RoomName.prefix {
            var send = WireRoomSend()
            send.room = entry.recipient
            send.clientMessageID = Data(entry.clientMessageID)
            send.groupMessage = Data(entry.envelope)
            request = .roomSend(send)
        } else {
            var send = WireSendEnvelope()
            send.recipient = entry.recipient
            send.clientMessageID = Data(entry.clientMessageID)
            send.envelope = Data(entry.envelope)
            request = .send(send)
        }
        while true {
            do {
                let reply = try await requestOnCurrentLink(request)
                guard case .sendAccepted = reply.body else { throw RelayError.unexpectedReply }
                // A removal lost to a power failure only resends the envelope, which the relay
                // stores once (for a room, once per member) and each recipient shows once: no
                // sync needed.
                var changes = StoreChanges()
                changes.outboxRemovals.append(entry.clientMessageID)
                try store.commit(changes, durable: false)
                return
            } catch let error as RelayError where error.code == .rateLimited {
                try await Task.sleep(for: .milliseconds(Int(max(error.retryAfterMilliseconds, 10))))
            } catch let error as RelayError where error == .connectionClosed || error.code == .internal {
                try await Task.sleep(for: .milliseconds(50))
            } catch let error as RelayError {
                var changes = StoreChanges()
                changes.outboxRemovals.append(entry.clientMessageID)
                try store.commit(changes)
                throw ClientError.relay(error)
            }
        }
    }

    /// Resends what the relay had not acknowledged when the last connection ended.
    func resendOutbox(on link: RelayLink) async {
        guard let entries = try? store.outbox() else { return }
        for entry in entries {
            do {
                try await deliver(entry)
            } catch {
                eventSink.yield(.warning("a message to \(entry.recipient) was not delivered: \(error)"))
            }
        }
    }

    func requestOnCurrentLink(_ body: WireClientFrame.OneOf_Body) async throws -> WireServerFrame {
        try await currentLink().request(body)
    }
}
