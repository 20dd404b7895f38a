import CipherCore
import CipherWire
import Foundation

extension ChatClient {
    /// Encrypts `text` for `recipient` and returns once the relay has stored it durably. The
    /// envelope waits in the outbox meanwhile, and is resent after a reconnect.
    @discardableResult
    public func send(_ text: String, to recipient: String) async throws -> ChatRecord {
        try Self.checkText(text, to: recipient)
        let payload = Payload.text(text, sentAtMilliseconds: Self.nowMilliseconds, random: random)
        let (entry, record) = try await sealForSending(payload, to: recipient, kind: "text", text: text)
        try await deliver(entry)
        return record
    }

    /// Encrypts `text` for `recipient` into the outbox without the relay, when there is a
    /// session to send on: the message is then kept whatever the relay does, and goes with the
    /// next connection (`resendOutbox`). False, with nothing written, when sealing needs the
    /// recipient's prekey bundle, which only the relay has.
    public func sealIntoOutbox(_ text: String, to recipient: String) throws -> Bool {
        try Self.checkText(text, to: recipient)
        guard try hasSessionToSendOn(recipient) else { return false }
        let payload = Payload.text(text, sentAtMilliseconds: Self.nowMilliseconds, random: random)
        _ = try sealNow(payload, to: recipient, bundle: nil, kind: "text", text: text)
        return true
    }

    /// A text message to `recipient` as `send` and `sealIntoOutbox` take it.
    private static func checkText(_ text: String, to recipient: String) throws {
        guard Username.isValid(recipient) else { throw ClientError.invalidUsername(recipient) }
        guard text.utf8.count <= Payload.maxContentSize else { throw ClientError.messageTooLong(Payload.maxContentSize) }
    }

    /// How many messages the outbox holds, sealed but not yet accepted by the relay.
    public func outboxCount() throws -> Int {
        try store.outboxCount()
    }

    /// Waits for the resend of the outbox that the connection started, and throws when entries
    /// are left that the relay has not accepted: the relay's `CODE_STORE_UNAVAILABLE` when it
    /// stopped the resend (so the user is told why, a full disk or a database down), else
    /// `ClientError.notConfirmed`.
    public func outboxSent() async throws {
        let refusal = await outboxResend?.value ?? nil
        let left = try store.outboxCount()
        guard left > 0 else { return }
        if let refusal { throw ClientError.relay(refusal) }
        throw ClientError.notConfirmed(count: left)
    }

    /// Sends an outbox entry until the relay accepts it, across reconnects; a definite refusal
    /// removes it from the outbox and is thrown. `CODE_STORE_UNAVAILABLE` is thrown too, with
    /// the entry kept: the relay cannot store it now, and says when to try again. An entry for
    /// a room (its recipient `#name`, its envelope a group message) goes as `RoomSend`, any
    /// other as `SendEnvelope`.
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
            } catch let error as RelayError where error.code == .storeUnavailable {
                throw ClientError.relay(error)
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

    /// Resends what the relay had not acknowledged when the last connection ended, or what was
    /// sealed while there was none. When the relay cannot store now, the rest waits for the
    /// next connection; the relay's refusal is returned.
    func resendOutbox(on link: RelayLink) async -> RelayError? {
        guard let entries = try? store.outbox() else { return nil }
        for entry in entries {
            do {
                try await deliver(entry)
            } catch ClientError.relay(let error) where error.code == .storeUnavailable {
                return error
            } catch is CancellationError {
                return nil
            } catch {
                eventSink.yield(.warning("a message to \(entry.recipient) was not delivered: \(error)"))
            }
        }
        return nil
    }

    func requestOnCurrentLink(_ body: WireClientFrame.OneOf_Body) async throws -> WireServerFrame {
        try await currentLink().request(body)
    }
}
