import CipherCore

/// A user with everything a session needs: identity, signed prekey, post-quantum prekey and a
/// batch of one-time prekeys, all derived from a seeded random source.
public struct TestUser: Sendable {
    public let name: String
    public let identity: PrivateIdentity
    public let signedPrekey: SignedPrekeyPair
    public let postQuantumPrekey: PostQuantumPrekeyPair
    public let oneTimePrekeys: [OneTimePrekeyPair]

    public init(name: String, identity: PrivateIdentity, random: some RandomSource, oneTimePrekeyCount: Int = 4) throws {
        self.name = name
        self.identity = identity
        signedPrekey = try SignedPrekeyPair.generate(id: 1, createdAt: 1_767_225_600, identity: identity, random: random)
        postQuantumPrekey = try PostQuantumPrekeyPair.generate(id: 1, createdAt: 1_767_225_600, identity: identity, random: random)
        oneTimePrekeys = try OneTimePrekeyPair.generateBatch(firstID: 100, count: oneTimePrekeyCount, random: random)
    }

    /// The bundle a directory would hand out, with the one-time prekey at `oneTimeIndex`.
    public func bundle(oneTimeIndex: Int? = 0) -> PrekeyBundle {
        PrekeyBundle(
            identity: identity.publicIdentity, signedPrekey: signedPrekey.publicPrekey,
            postQuantumPrekey: postQuantumPrekey.publicPrekey,
            oneTimePrekey: oneTimeIndex.map { oneTimePrekeys[$0].publicPrekey }
        )
    }

    public func oneTimePrekey(id: UInt32?) -> OneTimePrekeyPair? {
        id.flatMap { id in oneTimePrekeys.first { $0.publicPrekey.id == id } }
    }
}
