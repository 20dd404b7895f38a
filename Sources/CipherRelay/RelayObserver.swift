import CipherWire

/// What the relay reports for monitoring, as it happens. The server implements it with its
/// metrics; the relay logic knows nothing of how they are kept. Calls come from the message path,
/// so an implementation must be cheap: an atomic increment, no lock held for long, no
/// allocation, no string built per call.
public protocol RelayObserver: Sendable {
    /// An envelope of `bytes` was placed in a queue (a duplicate is not counted again).
    func envelopeAccepted(bytes: Int)
    /// An envelope of `bytes` was sent to a recipient's connection, `latencyMilliseconds` after
    /// the relay accepted it (a repeat after a reconnect counts again).
    func envelopeDelivered(bytes: Int, latencyMilliseconds: UInt64)
    /// A recipient acknowledged `count` deliveries it had been sent.
    func envelopesAcknowledged(count: Int)
    /// The expiry sweep deleted `count` envelopes past their time to live.
    func envelopesExpired(count: Int)
    /// A request or a connection was refused by `limit`.
    func limitHit(_ limit: RelayLimit)
    /// A login or a registration was refused, for `reason`.
    func authenticationFailed(_ reason: AuthenticationFailure)
    /// A file chunk of `bytes` was stored from its uploader (`.in`) or sent to a downloader
    /// (`.out`).
    func fileChunkTransferred(bytes: Int, direction: FileTransferDirection)
    /// A frame could not be decoded, or held no request.
    func malformedFrame()
    /// A store operation failed (the client was told the relay could not complete it, or that
    /// its store is unavailable), while serving `operation`, with `error`.
    func storeError(_ operation: StoreOperation, _ error: any Error)
}

/// The limits a relay enforces, as metrics label them: a small fixed set, never user input.
public enum RelayLimit: String, Sendable, CaseIterable {
    case frameSize = "frame_size"
    case messageRate = "message_rate"
    case queueQuota = "queue_quota"
    case queueQuotaPerSender = "queue_quota_per_sender"
    case connectionsTotal = "connections_total"
    case connectionsPerAddress = "connections_per_address"
}

/// What the relay was doing when its store failed, as metrics label it: the kind of request, or
/// the relay's own reads.
public enum StoreOperation: String, Sendable, CaseIterable {
    case register
    case login
    case prekeys
    case bundle
    case send
    case acknowledge
    case rooms
    case files
    /// The expiry sweep and the reads of a scrape or readiness check.
    case maintenance

    /// The operation a client frame asks for.
    init(_ body: WireClientFrame.OneOf_Body?) {
        switch body {
        case .register: self = .register
        case .login: self = .login
        case .publishPrekeys: self = .prekeys
        case .fetchBundle: self = .bundle
        case .send: self = .send
        case .acknowledge: self = .acknowledge
        case .roomChange, .roomSend, .fetchRoom: self = .rooms
        case .blobUploadStart, .blobChunkUpload, .blobUploadFinish, .blobChunkRequest, .blobReceived: self = .files
        case .ping, nil: self = .maintenance
        }
    }
}

/// Which way a file chunk went through the relay, as metrics label it.
public enum FileTransferDirection: String, Sendable, CaseIterable {
    case `in`
    case out
}

/// Why a login or a registration was refused, as metrics label it.
public enum AuthenticationFailure: String, Sendable, CaseIterable {
    /// The signature over the challenge did not verify, or the challenge had expired.
    case badProof = "bad_proof"
    /// A login for a name that is not registered.
    case unknownUser = "unknown_user"
    /// A registration of a name held by another identity.
    case usernameTaken = "username_taken"
    /// A registration whose identity does not parse.
    case invalidIdentity = "invalid_identity"
}

/// Reports nothing: for relays run without monitoring (tests, the demo, benchmarks).
public struct SilentRelayObserver: RelayObserver {
    public init() {}
    public func envelopeAccepted(bytes: Int) {}
    public func envelopeDelivered(bytes: Int, latencyMilliseconds: UInt64) {}
    public func envelopesAcknowledged(count: Int) {}
    public func envelopesExpired(count: Int) {}
    public func limitHit(_ limit: RelayLimit) {}
    public func authenticationFailed(_ reason: AuthenticationFailure) {}
    public func fileChunkTransferred(bytes: Int, direction: FileTransferDirection) {}
    public func malformedFrame() {}
    public func storeError(_ operation: StoreOperation, _ error: any Error) {}
}
