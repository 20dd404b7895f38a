import CipherCore
import CipherTesting
import Testing

/// Every decoder of untrusted bytes, so that each hostile-input test runs against all of them.
enum UntrustedInputDecoder: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case publicIdentity
    case prekeyBundle
    case sessionEnvelope
    case groupMessage
    case senderKeyDistribution
    case fileManifest
    case sessionState
    case privateIdentity
    case sealedContainer

    var testDescription: String { rawValue }

    func validEncoding(in encodings: MalformedInputFixtures) -> [UInt8] {
        switch self {
        case .publicIdentity: encodings.publicIdentity
        case .prekeyBundle: encodings.prekeyBundle
        case .sessionEnvelope: encodings.prekeyEnvelope
        case .groupMessage: encodings.groupMessage
        case .senderKeyDistribution: encodings.senderKeyDistribution
        case .fileManifest: encodings.fileManifest
        case .sessionState: encodings.sessionState
        case .privateIdentity: encodings.privateIdentity
        case .sealedContainer: encodings.sealedContainer
        }
    }

    /// The largest input each decoder reads, from the table in PROTOCOL.md section 3. Four have
    /// no public constant in the core, so their numbers are written out here.
    var sizeLimit: Int {
        switch self {
        case .publicIdentity: 4096
        case .prekeyBundle: PrekeyBundle.maxSerializedSize
        case .sessionEnvelope: SessionEnvelope.maxSerializedSize
        case .groupMessage: GroupMessage.maxSerializedSize
        case .senderKeyDistribution: 512
        case .fileManifest: 1024
        case .sessionState: Session.maxSerializedStateSize
        case .privateIdentity: 16_384
        case .sealedContainer: SealedContainer.maxPlaintextSize + 1024
        }
    }

    /// Whether signatures, key-consistency checks or a checksum cover every byte, so that no
    /// alteration may decode. (For the bundle, only because the fixture has no one-time prekey:
    /// those are unsigned by design, PROTOCOL.md 5.1.)
    var isAuthenticated: Bool {
        switch self {
        case .publicIdentity, .prekeyBundle, .privateIdentity, .sealedContainer: true
        default: false
        }
    }

    /// Whether the bit-flip tests try all eight bits of every byte, or one bit per byte where a
    /// decode is slow (RSA private-key checks, signature verification on every decode).
    var flipsEveryBit: Bool {
        switch self {
        case .prekeyBundle, .privateIdentity, .sessionState, .sessionEnvelope: false
        default: true
        }
    }

    /// Decodes `bytes`: nil when they are accepted, else the error thrown.
    func error(decoding bytes: ArraySlice<UInt8>) -> (any Error)? {
        do {
            switch self {
            case .publicIdentity: _ = try PublicIdentity(serialized: bytes)
            case .prekeyBundle: _ = try PrekeyBundle(serialized: bytes)
            case .sessionEnvelope: _ = try SessionEnvelope(serialized: bytes)
            case .groupMessage: _ = try GroupMessage(serialized: bytes)
            case .senderKeyDistribution: _ = try SenderKeyDistribution(serialized: bytes)
            case .fileManifest: _ = try FileManifest(serialized: bytes)
            case .sessionState: _ = try Session(serializedState: bytes)
            case .privateIdentity: _ = try PrivateIdentity(serialized: bytes)
            case .sealedContainer:
                _ = try SealedContainer.open(
                    Array(bytes), passphrase: MalformedInputFixtures.passphrase, context: MalformedInputFixtures.context
                )
            }
            return nil
        } catch {
            return error
        }
    }

    /// What bytes that are not a well-formed instance of the type must produce: the decoder's
    /// error type and, where that type has one case for it, that case. IdentityError names what
    /// was malformed, or the signature that failed, so any of its cases will do.
    func isMalformedError(_ error: any Error) -> Bool {
        switch self {
        case .publicIdentity, .prekeyBundle, .privateIdentity: error is IdentityError
        case .sessionEnvelope: (error as? HandshakeError) == .malformed
        case .groupMessage, .senderKeyDistribution, .sessionState: (error as? DecryptionError) == .malformed
        case .fileManifest: (error as? FileError) == .malformedManifest
        case .sealedContainer: (error as? SealError) == .corrupted
        }
    }

    /// What an altered encoding may produce: as above, and for an envelope also `.invalidPeer`,
    /// when the alteration breaks the sender's identity or signed prekey.
    func isRejectionError(_ error: any Error) -> Bool {
        guard self == .sessionEnvelope else { return isMalformedError(error) }
        guard let error = error as? HandshakeError else { return false }
        return error != .cannotDecrypt && error != .prekeyMismatch
    }

    /// The size check runs before anything is parsed, so it has one exact answer per decoder.
    func isTooLargeError(_ error: any Error) -> Bool {
        switch self {
        case .publicIdentity: (error as? IdentityError) == .malformed("public identity")
        case .prekeyBundle: (error as? IdentityError) == .malformed("prekey bundle")
        case .privateIdentity: (error as? IdentityError) == .malformed("private identity")
        default: isMalformedError(error)
        }
    }
}

/// One valid encoding of each untrusted type, and the receivers that must refuse altered ones.
/// Built once per process: the RSA signatures and the handshake make it the slow part.
struct MalformedInputFixtures: Sendable {
    static let passphrase = "correct horse battery staple"
    static let context = "cipherchat/test/malformed-input"

    let publicIdentity: [UInt8]
    /// Without a one-time prekey (see `MalformedInputTests.everyTruncation`).
    let prekeyBundle: [UInt8]
    /// Alice's first message to Bob, using his one-time prekey.
    let prekeyEnvelope: [UInt8]
    /// Bob's reply, which `aliceAwaitingReply` decrypts.
    let ratchetEnvelope: [UInt8]
    let groupMessage: [UInt8]
    let senderKeyDistribution: [UInt8]
    let fileManifest: [UInt8]
    /// Alice's session after her first message: it still holds the pending prekey header.
    let sessionState: [UInt8]
    let privateIdentity: [UInt8]
    let sealedContainer: [UInt8]

    let bob: TestUser
    let aliceAwaitingReply: Session
    let groupReceiver: ReceivedSenderChain

    struct Unexpected: Error, CustomStringConvertible {
        let what: String
        var description: String { what }
    }

    private static let built = Result { try MalformedInputFixtures() }

    static func shared() throws -> MalformedInputFixtures { try built.get() }

    private init() throws {
        let random = SeededRandomSource(seed: "MalformedInputTests")
        let alice = try TestUser(name: "alice", identity: TestIdentities.alice, random: random)
        let bob = try TestUser(name: "bob", identity: TestIdentities.bob, random: random)
        self.bob = bob
        publicIdentity = alice.identity.publicIdentity.serialized
        prekeyBundle = bob.bundle(oneTimeIndex: nil).serialized
        privateIdentity = alice.identity.serialized()

        var aliceSession = try Session.initiate(
            identity: alice.identity, signedPrekey: alice.signedPrekey, bundle: bob.bundle(), random: random
        )
        prekeyEnvelope = try aliceSession.encrypt(.text("hello bob", sentAtMilliseconds: 1_767_225_600_000, random: random))
        sessionState = aliceSession.serializedState()
        aliceAwaitingReply = aliceSession
        guard case .prekey(let prekey) = try SessionEnvelope(serialized: prekeyEnvelope) else {
            throw Unexpected(what: "Alice's first message is not a prekey envelope")
        }
        var bobSession = try Session.accept(
            prekey, identity: bob.identity, signedPrekey: bob.signedPrekey, postQuantumPrekey: bob.postQuantumPrekey,
            oneTimePrekey: bob.oneTimePrekey(id: prekey.recipientOneTimePrekeyID), random: random
        ).session
        ratchetEnvelope = try bobSession.encrypt(.text("hello alice", sentAtMilliseconds: 1_767_225_601_000, random: random))

        var chain = try SenderChain.generate(room: "book club", owner: alice.identity.publicIdentity.fingerprint, random: random)
        senderKeyDistribution = chain.distribution.serialized
        groupReceiver = try ReceivedSenderChain(chain.distribution, from: alice.identity.publicIdentity.fingerprint)
        groupMessage = try chain.encrypt(.text("hello room", sentAtMilliseconds: 1_767_225_602_000, random: random))

        var encryptor = FileEncryptor(random: random, chunkSize: 1024)
        try encryptor.append([UInt8](repeating: 0x42, count: 3000)) { _ in }
        fileManifest = try encryptor.finish(name: "minutes.txt").manifest.serialized

        sealedContainer = try SealedContainer.seal(
            privateIdentity, passphrase: Self.passphrase, context: Self.context,
            kdf: .scrypt(logN: 10, r: 8, p: 1), random: random
        )
    }
}
