import CipherWire
import Crypto
import Foundation

/// Stored forms of sender chains (PROTOCOL.md 10): live keys, to be sealed before storage.
extension SenderChain {
    static let stateVersion: UInt32 = 1

    public func serializedState() -> [UInt8] {
        var state = WireSenderChainState()
        state.version = Self.stateVersion
        state.room = room
        state.ownerFingerprint = Data(owner.bytes)
        state.chainID = chainID
        state.iteration = iteration
        state.chainKey = Data(chainKey.key.bytes)
        state.signingPublicKey = signingKey.publicKey.rawRepresentation
        state.signingPrivateKey = signingKey.rawRepresentation
        return state.encodedBytes
    }

    public init(serializedState bytes: some Collection<UInt8>) throws(DecryptionError) {
        let state = try WireSenderChainState.decodeStored(bytes)
        guard state.signingPrivateKey.count == 32,
              let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: state.signingPrivateKey),
              let owner = Fingerprint(bytes: Array(state.ownerFingerprint)) else {
            throw .malformed
        }
        self.init(
            room: state.room, owner: owner, chainID: state.chainID, iteration: state.iteration,
            chainKey: ChainKey(SymmetricKey(data: state.chainKey)), signingKey: key
        )
    }
}

extension ReceivedSenderChain {
    public func serializedState() -> [UInt8] {
        var state = WireSenderChainState()
        state.version = SenderChain.stateVersion
        state.room = room
        state.ownerFingerprint = Data(owner.bytes)
        state.chainID = chainID
        state.iteration = iteration
        state.chainKey = Data(chainKey.key.bytes)
        state.signingPublicKey = signingKey.rawRepresentation
        state.skipped = skipped.keys.sorted().map { iteration in
            var entry = WireGroupSkippedKey()
            entry.iteration = iteration
            entry.messageKey = Data(skipped[iteration]!.bytes)
            return entry
        }
        return state.encodedBytes
    }

    public init(serializedState bytes: some Collection<UInt8>) throws(DecryptionError) {
        let state = try WireSenderChainState.decodeStored(bytes)
        guard state.signingPrivateKey.isEmpty,
              let key = try? Curve25519.Signing.PublicKey(rawRepresentation: state.signingPublicKey),
              let owner = Fingerprint(bytes: Array(state.ownerFingerprint)),
              state.skipped.count <= SkippedMessageKeys.maxTotal,
              state.skipped.allSatisfy({ $0.messageKey.count == 32 }) else {
            throw .malformed
        }
        var skipped: [UInt32: SymmetricKey] = [:]
        for entry in state.skipped { skipped[entry.iteration] = SymmetricKey(data: entry.messageKey) }
        self.init(
            room: state.room, owner: owner, chainID: state.chainID, iteration: state.iteration,
            chainKey: ChainKey(SymmetricKey(data: state.chainKey)), signingKey: key, skipped: skipped
        )
    }
}

extension WireSenderChainState {
    static func decodeStored(_ bytes: some Collection<UInt8>) throws(DecryptionError) -> Self {
        let state: Self
        do {
            state = try Self(boundedBytes: bytes, maxSize: 256 * 1024)
        } catch {
            throw .malformed
        }
        guard state.version == SenderChain.stateVersion, GroupMessageHeader.isValidRoom(state.room),
              state.chainKey.count == 32 else {
            throw .malformed
        }
        return state
    }
}
