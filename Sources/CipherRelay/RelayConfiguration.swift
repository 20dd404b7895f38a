/// Every limit the relay enforces, all configurable (`cipherchat server --help` lists the flags).
public struct RelayConfiguration: Sendable {
    /// Largest frame accepted, in bytes; a larger one gets an error and the connection closes.
    public var maxFrameSize = 1 << 20
    /// Largest frame accepted before the connection is authenticated (PROTOCOL.md 12.1): a
    /// `Register` with the largest identity fits. An unauthenticated connection holds at most
    /// one such frame, and reading pauses until it is handled.
    public static let maxFrameSizeBeforeAuthentication = 8192
    /// Frame bytes a connection may have queued for handling before reading pauses (besides
    /// the frame count): a fast client cannot make the relay hold more than this and one frame.
    public static let maxQueuedFrameBytes = 4 << 20
    /// Messages a connection may send: a bucket of `messageBurst`, refilled at this rate.
    public var messagesPerSecond = 200.0
    public var messageBurst = 400
    /// A room message takes one token per this many recipients (at least one): without it one
    /// token could make a thousand queued copies.
    public var roomRecipientsPerMessageToken = 25
    /// A room change that needs stored statements checked (the first change to a room since
    /// the relay started, or after another instance changed it) takes one more token per this
    /// many: checking one costs two RSA verifications.
    public var roomStatementsPerMessageToken = 8
    public var maxConnectionsPerAddress = 256
    public var maxConnections = 15_000
    /// Envelopes one recipient's queue may hold.
    public var queueQuota = 10_000
    /// Of those, how many may come from one sender (a user, or a room for its members' copies):
    /// a quarter, so one sender cannot keep everyone else from reaching a recipient.
    public var queueQuotaPerSender = 2_500

    /// The queue quota as the store applies it.
    public var queueQuotas: QueueQuota { QueueQuota(total: queueQuota, perSender: queueQuotaPerSender) }
    /// How long an undelivered envelope is kept.
    public var queueTTLSeconds: UInt64 = 30 * 86_400
    /// How long a login or registration challenge stays valid.
    public var challengeLifetimeSeconds: UInt64 = 300
    /// Below this many one-time prekeys the owner is told to upload more.
    public var lowPrekeyThreshold = 20
    public var maxOneTimePrekeysPerUpload = 500
    public var maxOneTimePrekeysStored = 2_000
    /// Deliveries sent to a connection and not yet acknowledged, before pushes pause.
    public var maxUnacknowledgedDeliveries = 1_000
    /// A connection that sends a partial frame and then nothing for this long is dropped, and
    /// one whose frame is not whole twice this long after its first byte.
    public var partialFrameTimeoutSeconds: UInt64 = 30
    /// An unauthenticated connection is dropped after this long.
    public var authenticationTimeoutSeconds: UInt64 = 60
    /// The largest file one upload may carry, in plaintext bytes (the blob adds 16 per chunk).
    public var maxFileSize: UInt64 = 2 << 30
    /// Bytes of blobs one user may have stored at once.
    public var blobQuota: UInt64 = 10 << 30
    /// How long a blob is kept when not every recipient has fetched it.
    public var blobTTLSeconds: UInt64 = 7 * 86_400
    /// Recipients one blob may name (a room's members).
    public var maxBlobRecipients = 1_000
    /// With a store shared by several instances: how often each instance looks in the stored
    /// queue for envelopes another queued for its clients, in case a wake-up was lost.
    public var sharedQueuePollInterval = Duration.seconds(1)

    public init() {}
}
