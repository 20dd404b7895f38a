import CipherWire
import Foundation

extension Session {
    static let stateVersion: UInt32 = 1
    public static let maxSerializedStateSize = 512 * 1024

    /// The stored form of the session (PROTOCOL.md 10): live keys, to be sealed
    /// (`SealedContainer`) before it touches a disk.
    public func serializedState() -> [UInt8] {
        var state = WireSessionState()
        state.version = Self.stateVersion
        state.ratchet = ratchet.wireState
        state.localFingerprint = Data(localFingerprint.bytes)
        state.remoteFingerprint = Data(remoteFingerprint.bytes)
        state.baseKey = Data(baseKey)
        if let pendingPrekey {
            var pending = WirePendingPrekey()
            pending.senderIdentity = Data(pendingPrekey.senderIdentity.serialized)
            pending.senderSignedPrekey = Data(pendingPrekey.senderSignedPrekey.wire.encodedBytes)
            pending.recipientSignedPrekeyID = pendingPrekey.recipientSignedPrekeyID
            pending.recipientPostQuantumPrekeyID = pendingPrekey.recipientPostQuantumPrekeyID
            if let id = pendingPrekey.recipientOneTimePrekeyID {
                pending.oneTimePrekeyUsed = true
                pending.recipientOneTimePrekeyID = id
            }
            pending.ephemeralKey = Data(pendingPrekey.ephemeralKey)
            pending.wrappedSecret = Data(pendingPrekey.wrappedSecret)
            pending.kemCiphertext = Data(pendingPrekey.kemCiphertext)
            state.pendingPrekey = pending
        }
        return state.encodedBytes
    }

    public init(serializedState bytes: some Collection<UInt8>) throws(DecryptionError) {
        let state: WireSessionState
        do {
            state = try WireSessionState(boundedBytes: bytes, maxSize: Self.maxSerializedStateSize)
        } catch {
            throw .malformed
        }
        guard state.version == Self.stateVersion, state.hasRatchet,
              let local = Fingerprint(bytes: Array(state.localFingerprint)),
              let remote = Fingerprint(bytes: Array(state.remoteFingerprint)),
              state.baseKey.count == 32 else {
            throw .malformed
        }
        ratchet = try DoubleRatchet(wireState: state.ratchet)
        localFingerprint = local
        remoteFingerprint = remote
        baseKey = Array(state.baseKey)
        pendingPrekey = nil
        if state.hasPendingPrekey {
            let pending = state.pendingPrekey
            guard pending.ephemeralKey == state.baseKey, [256, 384, 512].contains(pending.wrappedSecret.count),
                  pending.kemCiphertext.count == PostQuantumPrekey.ciphertextSize else {
                throw .malformed
            }
            do {
                let identity = try PublicIdentity(serialized: pending.senderIdentity)
                let signedPrekeyWire = try WireSignedPrekey(boundedBytes: pending.senderSignedPrekey, maxSize: 2048)
                pendingPrekey = PendingPrekey(
                    senderIdentity: identity,
                    senderSignedPrekey: try SignedPrekey(wire: signedPrekeyWire, owner: identity),
                    recipientSignedPrekeyID: pending.recipientSignedPrekeyID,
                    recipientPostQuantumPrekeyID: pending.recipientPostQuantumPrekeyID,
                    recipientOneTimePrekeyID: pending.oneTimePrekeyUsed ? pending.recipientOneTimePrekeyID : nil,
                    ephemeralKey: Array(pending.ephemeralKey),
                    wrappedSecret: Array(pending.wrappedSecret),
                    kemCiphertext: Array(pending.kemCiphertext)
                )
            } catch {
                throw .malformed
            }
        }
    }
}
