import CipherWire

/// What an initiator fetches to start a session with someone offline (PROTOCOL.md 5.2). A value
/// of this type has been checked: the identity's certificate and both prekey signatures verify.
public struct PrekeyBundle: Sendable, Hashable {
    public static let maxSerializedSize = 8 * 1024

    public let identity: PublicIdentity
    public let signedPrekey: SignedPrekey
    public let postQuantumPrekey: PostQuantumPrekey
    public let oneTimePrekey: OneTimePrekey?

    public init(
        identity: PublicIdentity, signedPrekey: SignedPrekey,
        postQuantumPrekey: PostQuantumPrekey, oneTimePrekey: OneTimePrekey?
    ) {
        self.identity = identity
        self.signedPrekey = signedPrekey
        self.postQuantumPrekey = postQuantumPrekey
        self.oneTimePrekey = oneTimePrekey
    }

    public init(wire: WirePrekeyBundle) throws(IdentityError) {
        guard wire.hasIdentity, wire.hasSignedPrekey, wire.hasPostQuantumPrekey else {
            throw .malformed("prekey bundle")
        }
        identity = try PublicIdentity(wire: wire.identity)
        signedPrekey = try SignedPrekey(wire: wire.signedPrekey, owner: identity)
        postQuantumPrekey = try PostQuantumPrekey(wire: wire.postQuantumPrekey, owner: identity)
        oneTimePrekey = wire.hasOneTimePrekey ? try OneTimePrekey(wire: wire.oneTimePrekey) : nil
    }

    public init(serialized bytes: some Collection<UInt8>) throws(IdentityError) {
        let wire: WirePrekeyBundle
        do {
            wire = try WirePrekeyBundle(boundedBytes: bytes, maxSize: Self.maxSerializedSize)
        } catch {
            throw .malformed("prekey bundle")
        }
        try self.init(wire: wire)
    }

    public var wire: WirePrekeyBundle {
        var wire = WirePrekeyBundle()
        wire.identity = identity.wire
        wire.signedPrekey = signedPrekey.wire
        wire.postQuantumPrekey = postQuantumPrekey.wire
        if let oneTimePrekey { wire.oneTimePrekey = oneTimePrekey.wire }
        return wire
    }

    public var serialized: [UInt8] { wire.encodedBytes }
}
