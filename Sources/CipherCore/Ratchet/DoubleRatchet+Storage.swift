import CipherWire
import Crypto
import Foundation

extension DoubleRatchet {
    static let stateVersion: UInt32 = 1

    /// The stored form (PROTOCOL.md 10). It holds live keys: seal it before it touches a disk.
    var wireState: WireRatchetState {
        var state = WireRatchetState()
        state.version = Self.stateVersion
        state.rootKey = Data(rootKey.bytes)
        state.ownRatchetPrivateKey = ownRatchetKey.rawRepresentation
        state.remoteRatchetKey = Data(remoteRatchetKey ?? [])
        state.sendingChainKey = Data(sendingChain?.key.bytes ?? [])
        state.receivingChainKey = Data(receivingChain?.key.bytes ?? [])
        state.sendingMessageNumber = sendingMessageNumber
        state.receivingMessageNumber = receivingMessageNumber
        state.previousSendingChainLength = previousSendingChainLength
        state.associatedData = Data(associatedData)
        state.skipped = skipped.entries.map { entry in
            var skippedKey = WireSkippedMessageKey()
            skippedKey.ratchetKey = Data(entry.slot.ratchetKey)
            skippedKey.messageNumber = entry.slot.messageNumber
            skippedKey.messageKey = Data(entry.key.bytes)
            return skippedKey
        }
        return state
    }

    init(wireState state: WireRatchetState) throws(DecryptionError) {
        guard state.version == Self.stateVersion,
              state.rootKey.count == 32,
              state.associatedData.count == Session.associatedDataSize,
              [0, 32].contains(state.remoteRatchetKey.count),
              [0, 32].contains(state.sendingChainKey.count),
              [0, 32].contains(state.receivingChainKey.count),
              state.skipped.count <= SkippedMessageKeys.maxTotal,
              let ownKey = try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: state.ownRatchetPrivateKey) else {
            throw .malformed
        }
        self.init(
            restoringRootKey: SymmetricKey(data: state.rootKey), ownRatchetKey: ownKey,
            associatedData: Array(state.associatedData)
        )
        remoteRatchetKey = state.remoteRatchetKey.isEmpty ? nil : Array(state.remoteRatchetKey)
        sendingChain = state.sendingChainKey.isEmpty ? nil : ChainKey(SymmetricKey(data: state.sendingChainKey))
        receivingChain = state.receivingChainKey.isEmpty ? nil : ChainKey(SymmetricKey(data: state.receivingChainKey))
        sendingMessageNumber = state.sendingMessageNumber
        receivingMessageNumber = state.receivingMessageNumber
        previousSendingChainLength = state.previousSendingChainLength
        for entry in state.skipped {
            guard entry.ratchetKey.count == 32, entry.messageKey.count == 32 else { throw .malformed }
            skipped.insert(
                SymmetricKey(data: entry.messageKey),
                for: .init(ratchetKey: Array(entry.ratchetKey), messageNumber: entry.messageNumber)
            )
        }
    }
}
