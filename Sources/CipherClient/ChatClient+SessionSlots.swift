import CipherCore

/// Where a session with a contact is kept. Two users who start a session with each other at the
/// same moment each accept the other's and may each go on sending on the one they accepted,
/// while the other side holds the one it started: as in Signal, the client keeps the session a
/// new one replaced and tries it when the current one cannot decrypt. Sending always uses the
/// current one. Rooms make this common: a new member and the members it joins hand each other
/// keys at once.
enum SessionSlot {
    case current
    case previous

    var kind: String {
        switch self {
        case .current: "session"
        case .previous: "session-previous"
        }
    }
}

extension ChatClient {
    /// The stored session with `sender` started from `baseKey`, in either slot.
    func storedSession(with sender: String, baseKey: [UInt8]) throws -> (SessionSlot, Session)? {
        for slot in [SessionSlot.current, .previous] {
            if let state = try store.item(slot.kind, sender), let session = try? Session(serializedState: state),
               constantTimeEquals(session.baseKey, baseKey) {
                return (slot, session)
            }
        }
        return nil
    }

    /// Decrypts a ratchet message in the current session with `sender`, else in the previous one;
    /// either must be with the pinned identity. The first failure is what is thrown.
    func decryptRatchet(
        _ envelope: SessionEnvelope, from sender: String, pinned: Fingerprint
    ) throws -> (SessionSlot, Session, Payload) {
        var firstFailure: (any Error)?
        for slot in [SessionSlot.current, .previous] {
            guard let state = try store.item(slot.kind, sender) else { continue }
            var session = try Session(serializedState: state)
            guard session.remoteFingerprint == pinned else { continue }
            do {
                let payload = try session.decrypt(envelope, random: random)
                return (slot, session, payload)
            } catch {
                if firstFailure == nil { firstFailure = error }
            }
        }
        throw firstFailure ?? DecryptionError.cannotDecrypt
    }
}
