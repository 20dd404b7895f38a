import CipherCore
import CipherWire
import Foundation

/// One client connection's protocol state (PROTOCOL.md 12): unauthenticated until a valid
/// Register or Login, then allowed to publish, fetch, send and acknowledge. It takes decoded
/// bytes in and puts frames on its `RelayFrameSink`; the network adapter carries them. It never looks
/// inside an envelope.
public actor RelayConnection {
    let sink: any RelayFrameSink
    let service: RelayService
    let address: String
    /// The login challenge; emptied once the client is in.
    private var nonce: [UInt8]
    private let challengeIssuedAt: UInt64
    private(set) var username: String?
    private var messageBucket: TokenBucket
    private var unacknowledged: Set<UInt64> = []
    private var pushesPaused = false
    /// While the queue is being read, pushes wait here, so that deliveries leave in order.
    private var deferredPushes: [QueuedEnvelope]?
    private var closed = false
    /// Blobs this connection is uploading or downloading, so a chunk costs no store lookup
    /// (`RelayConnection+Files.swift`).
    var openBlobs: [[UInt8]: StoredBlob] = [:]
    /// Set while `deliverQueued` reads the stored queue: ids acknowledged meanwhile, which the
    /// read may still return but must not be sent again.
    private var acknowledgedWhileReadingQueue: Set<UInt64>?
    private nonisolated let executor: any SerialExecutor

    /// The actor runs on the executor the adapter gives it: the relay gives the event loop of
    /// the connection's channel, so handling a frame needs no thread switch.
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// What the adapter does after a frame.
    public enum Disposition: Sendable, Equatable {
        case keepOpen
        /// Send what was sent to the sink, then close.
        case close
    }

    init(service: RelayService, address: String, nonce: [UInt8], sink: any RelayFrameSink, executor: any SerialExecutor) {
        self.executor = executor
        self.sink = sink
        self.service = service
        self.address = address
        self.nonce = nonce
        challengeIssuedAt = service.clock.wallMilliseconds
        messageBucket = TokenBucket(
            capacity: service.configuration.messageBurst, ratePerSecond: service.configuration.messagesPerSecond,
            now: service.clock.monotonicNanoseconds
        )
        var challenge = WireChallenge()
        challenge.nonce = Data(nonce)
        challenge.protocolVersion = 1
        var frame = WireServerFrame()
        frame.challenge = challenge
        sink.send(frame)
    }

    public var authenticatedUsername: String? { username }

    public var isClosed: Bool { closed }

    /// Handles one frame's bytes (the length prefix already removed).
    public func receive(_ bytes: [UInt8]) async -> Disposition {
        let frame: WireClientFrame
        do {
            frame = try WireClientFrame(boundedBytes: bytes, maxSize: service.configuration.maxFrameSize)
        } catch {
            service.securityLog.record(SecurityEvent(kind: .malformedFrame, address: address, username: username))
            service.observer.malformedFrame()
            send(error: .malformedFrame, "the frame is not a valid ClientFrame", requestID: 0)
            return .close
        }
        do {
            return try await handle(frame)
        } catch let error as StoreUnavailableError {
            // Retryable, and said so at once: the client keeps what it sent and tries again.
            service.observer.storeError(StoreOperation(frame.body), error)
            sendStoreUnavailable(error, requestID: frame.requestID)
            return .keepOpen
        } catch {
            service.observer.storeError(StoreOperation(frame.body), error)
            send(error: .internal, "the relay could not complete the request", requestID: frame.requestID)
            return .close
        }
    }

    /// The frame was larger than `limit` (the configured one, or the smaller one in force before
    /// authentication): the adapter drops it unread and calls this.
    public func frameTooLarge(limit: Int) {
        service.securityLog.record(SecurityEvent(kind: .limitHit, address: address, username: username, detail: "frame_size"))
        service.observer.limitHit(.frameSize)
        let when = username == nil ? " before authentication" : ""
        send(error: .frameTooLarge, "frames are limited to \(limit) bytes\(when)", requestID: 0, limit: "frame_size")
    }

    private func handle(_ frame: WireClientFrame) async throws -> Disposition {
        let requestID = frame.requestID
        switch frame.body {
        case .register(let register):
            return try await handleRegister(register, requestID: requestID)
        case .login(let login):
            return try await handleLogin(login, requestID: requestID)
        case .publishPrekeys(let publish):
            guard let username else { return notAuthenticated(requestID) }
            // The identity is looked up again rather than kept: parsed RSA keys held by every
            // idle connection cost more memory than a rare publication costs time.
            guard let account = try await service.store.account(named: username),
                  let identity = try? PublicIdentity(serialized: account.identity) else {
                send(error: .internal, "the relay could not complete the request", requestID: requestID)
                return .close
            }
            return try await handlePublish(publish, username: username, identity: identity, requestID: requestID)
        case .fetchBundle(let fetch):
            guard username != nil else { return notAuthenticated(requestID) }
            return try await handleFetch(fetch, requestID: requestID)
        case .send(let envelope):
            guard let username else { return notAuthenticated(requestID) }
            return try await handleSend(envelope, sender: username, requestID: requestID)
        case .acknowledge(let acknowledge):
            guard let username else { return notAuthenticated(requestID) }
            // The deletion commits with the next batch; nothing here waits for the disk.
            try service.store.acknowledgeWithoutWaiting(recipient: username, deliveryIDs: acknowledge.deliveryIds)
            var acknowledged = 0
            for id in acknowledge.deliveryIds where unacknowledged.remove(id) != nil { acknowledged += 1 }
            service.observer.envelopesAcknowledged(count: acknowledged)
            acknowledgedWhileReadingQueue?.formUnion(acknowledge.deliveryIds)
            // A read under way sends what it finds up to the bound; a second would race it.
            if pushesPaused, deferredPushes == nil,
               unacknowledged.count <= service.configuration.maxUnacknowledgedDeliveries / 2 {
                try await refill(username: username)
            }
            return .keepOpen
        case .roomChange(let change):
            guard let username else { return notAuthenticated(requestID) }
            return try await handleRoomChange(change, author: username, requestID: requestID)
        case .roomSend(let roomSend):
            guard let username else { return notAuthenticated(requestID) }
            return try await handleRoomSend(roomSend, sender: username, requestID: requestID)
        case .fetchRoom(let fetch):
            guard let username else { return notAuthenticated(requestID) }
            return try await handleFetchRoom(fetch, username: username, requestID: requestID)
        case .ping:
            var reply = WireServerFrame()
            reply.requestID = requestID
            reply.pong = WirePong()
            sink.send(reply)
            return .keepOpen
        case .blobUploadStart, .blobChunkUpload, .blobUploadFinish, .blobChunkRequest, .blobReceived:
            guard let username else { return notAuthenticated(requestID) }
            return try await handleFileFrame(frame, username: username)
        case nil:
            service.securityLog.record(SecurityEvent(kind: .malformedFrame, address: address, username: username))
            service.observer.malformedFrame()
            send(error: .malformedFrame, "the frame has no request", requestID: requestID)
            return .close
        }
    }

    // MARK: Authentication

    private func handleRegister(_ register: WireRegister, requestID: UInt64) async throws -> Disposition {
        guard username == nil else { return alreadyAuthenticated(requestID) }
        guard Username.isValid(register.username) else {
            send(error: .invalidUsername, "usernames are 1 to 32 of a-z, 0-9, _ . -", requestID: requestID)
            return .close
        }
        guard let identity = try? PublicIdentity(wire: register.identity) else {
            service.observer.authenticationFailed(.invalidIdentity)
            send(error: .authenticationFailed, "the identity is not valid", requestID: requestID)
            return .close
        }
        guard challengeIsFresh, RelayAuthentication.verify(
            Array(register.signature), purpose: .register, nonce: nonce, username: register.username,
            serverCertificateHash: service.certificateHash, identity: identity
        ) else {
            service.securityLog.record(SecurityEvent(kind: .registrationRefused, address: address, username: register.username, detail: "bad_proof"))
            service.observer.authenticationFailed(.badProof)
            send(error: .authenticationFailed, "the proof of possession does not verify", requestID: requestID)
            return .close
        }
        let account = StoredAccount(
            username: register.username, identity: identity.serialized, registeredAtMilliseconds: service.clock.wallMilliseconds
        )
        switch try await service.store.createAccount(account) {
        case .created:
            service.securityLog.record(SecurityEvent(kind: .registration, address: address, username: register.username))
        case .exists(let existing):
            // Registering again with the same key is harmless (a retry); another key never
            // takes a name.
            guard existing.identity == identity.serialized else {
                service.securityLog.record(SecurityEvent(kind: .registrationRefused, address: address, username: register.username, detail: "taken"))
                service.observer.authenticationFailed(.usernameTaken)
                send(error: .usernameTaken, "that username belongs to another identity", requestID: requestID)
                return .close
            }
            service.securityLog.record(SecurityEvent(kind: .loginSucceeded, address: address, username: register.username))
        }
        try await authenticated(as: register.username, requestID: requestID)
        return .keepOpen
    }

    private func handleLogin(_ login: WireLogin, requestID: UInt64) async throws -> Disposition {
        guard username == nil else { return alreadyAuthenticated(requestID) }
        guard Username.isValid(login.username),
              let account = try await service.store.account(named: login.username),
              let identity = try? PublicIdentity(serialized: account.identity) else {
            service.securityLog.record(SecurityEvent(kind: .loginFailed, address: address, detail: "unknown_user"))
            service.observer.authenticationFailed(.unknownUser)
            send(error: .unknownUser, "no such user", requestID: requestID)
            return .close
        }
        guard challengeIsFresh, RelayAuthentication.verify(
            Array(login.signature), purpose: .login, nonce: nonce, username: login.username,
            serverCertificateHash: service.certificateHash, identity: identity
        ) else {
            service.securityLog.record(SecurityEvent(kind: .loginFailed, address: address, username: login.username, detail: "bad_proof"))
            service.observer.authenticationFailed(.badProof)
            send(error: .authenticationFailed, "the login signature does not verify", requestID: requestID)
            return .close
        }
        service.securityLog.record(SecurityEvent(kind: .loginSucceeded, address: address, username: login.username))
        try await authenticated(as: login.username, requestID: requestID)
        return .keepOpen
    }

    private var challengeIsFresh: Bool {
        let now = service.clock.wallMilliseconds
        return now >= challengeIssuedAt && now - challengeIssuedAt <= service.configuration.challengeLifetimeSeconds * 1000
    }

    private func authenticated(as name: String, requestID: UInt64) async throws {
        username = name
        nonce = []
        guard !closed else { return }
        var welcome = WireWelcome()
        welcome.username = name
        welcome.queued = UInt32(clamping: try await service.store.queuedCount(for: name))
        welcome.oneTimePrekeysRemaining = UInt32(clamping: try await service.store.oneTimePrekeyCount(username: name))
        var frame = WireServerFrame()
        frame.requestID = requestID
        frame.welcome = welcome
        sink.send(frame)
        // Registered before the queue is read, so nothing enqueued in between is missed;
        // pushes meanwhile are deferred by `refill` and sent after the older queued ones.
        deferredPushes = []
        service.registry.add(self, for: name)
        // Logged in while the relay was announcing its shutdown: this client was not among
        // those told, so tell it now rather than keep the shutdown waiting for it.
        if service.isShuttingDown { goAway() }
        try await refill(username: name)
    }

    // MARK: Deliveries

    /// Sends queued envelopes this connection has not sent yet, up to the unacknowledged bound.
    private func refill(username: String) async throws {
        if deferredPushes == nil { deferredPushes = [] }
        acknowledgedWhileReadingQueue = []
        let limit = service.configuration.maxUnacknowledgedDeliveries
        let queued = try await service.store.pending(for: username, after: 0, limit: limit + unacknowledged.count)
        sendRead(queued)
    }

    func push(_ envelope: QueuedEnvelope) {
        guard !closed, !unacknowledged.contains(envelope.deliveryID) else { return }
        if deferredPushes != nil {
            deferredPushes!.append(envelope)
            return
        }
        guard unacknowledged.count < service.configuration.maxUnacknowledgedDeliveries else {
            // The envelope stays queued; `refill` sends it once the client catches up.
            pushesPaused = true
            return
        }
        deliver(envelope)
    }

    /// Another instance queued envelopes for this user (several instances on one store): sends
    /// those the stored queue holds that this connection has not sent, in delivery-id order
    /// with any pushed meanwhile. Skipped while a refill reads (a poll comes back later) or
    /// while pushes wait for the client to catch up (its acknowledgements refill), and, after a
    /// poll, when every queued envelope is already in flight here.
    func deliverQueued(queuedCount: Int?) async {
        guard let username, !closed, deferredPushes == nil, !pushesPaused else { return }
        if let queuedCount, queuedCount <= unacknowledged.count { return }
        deferredPushes = []
        acknowledgedWhileReadingQueue = []
        let limit = service.configuration.maxUnacknowledgedDeliveries
        let queued = (try? await service.store.pending(for: username, after: 0, limit: limit + unacknowledged.count)) ?? []
        sendRead(queued)
    }

    /// Sends what a read of the stored queue returned, with the pushes deferred meanwhile, in
    /// delivery-id order, leaving out what is in flight or was acknowledged during the read.
    ///
    /// Pushes pause whenever the bound is reached, not only when more was seen beyond it: the
    /// read asks for no more than fills the bound, so a queue longer than the bound looks
    /// exactly as long as it, and only a pause makes acknowledgements read the rest (12.5).
    private func sendRead(_ queued: [QueuedEnvelope]) {
        let acknowledged = acknowledgedWhileReadingQueue ?? []
        acknowledgedWhileReadingQueue = nil
        let deferred = deferredPushes ?? []
        deferredPushes = nil
        let limit = service.configuration.maxUnacknowledgedDeliveries
        var sent = Set<UInt64>()
        for envelope in queued + deferred.sorted(by: { $0.deliveryID < $1.deliveryID })
        where !unacknowledged.contains(envelope.deliveryID) && !acknowledged.contains(envelope.deliveryID)
            && sent.insert(envelope.deliveryID).inserted {
            guard !closed, unacknowledged.count < limit else { break }
            deliver(envelope)
        }
        pushesPaused = unacknowledged.count >= limit
    }

    private func deliver(_ envelope: QueuedEnvelope) {
        unacknowledged.insert(envelope.deliveryID)
        var delivery = WireDelivery()
        delivery.deliveryID = envelope.deliveryID
        delivery.sender = envelope.sender
        delivery.clientMessageID = Data(envelope.clientMessageID)
        delivery.acceptedAtMs = envelope.acceptedAtMilliseconds
        delivery.envelope = Data(envelope.envelope)
        var frame = WireServerFrame()
        frame.delivery = delivery
        sink.send(frame)
        let now = service.clock.wallMilliseconds
        service.observer.envelopeDelivered(
            bytes: envelope.envelope.count,
            latencyMilliseconds: now > envelope.acceptedAtMilliseconds ? now - envelope.acceptedAtMilliseconds : 0
        )
    }

    private func handleSend(_ send: WireSendEnvelope, sender: String, requestID: UInt64) async throws -> Disposition {
        guard takeMessageToken(requestID: requestID) else { return .keepOpen }
        guard send.clientMessageID.count == 16, !send.envelope.isEmpty else {
            self.send(error: .malformedFrame, "a message needs a 16-byte client message id and an envelope", requestID: requestID)
            return .keepOpen
        }
        guard Username.isValid(send.recipient), try await service.accountExists(send.recipient) else {
            self.send(error: .unknownUser, "no such user", requestID: requestID)
            return .keepOpen
        }
        let ticket = try await service.store.enqueue(
            NewEnvelope(
                sender: sender, recipient: send.recipient, clientMessageID: Array(send.clientMessageID),
                acceptedAtMilliseconds: service.clock.wallMilliseconds, envelope: Array(send.envelope)
            ),
            quota: service.configuration.queueQuotas
        )
        switch ticket.result {
        case .stored(let envelope):
            service.observer.envelopeAccepted(bytes: envelope.envelope.count)
            // Push first: an online recipient need not wait for the disk.
            await service.push(envelope)
        case .duplicate:
            break
        case .quotaExceeded(let quota):
            service.securityLog.record(SecurityEvent(kind: .limitHit, address: address, username: sender, detail: "queue_quota"))
            service.observer.limitHit(.queueQuota)
            self.send(error: .queueFull, "the recipient's queue is full (\(quota) messages)", requestID: requestID, limit: "queue_quota")
            return .keepOpen
        case .senderQuotaExceeded(let quota):
            let limit = RelayLimit.queueQuotaPerSender
            service.securityLog.record(SecurityEvent(kind: .limitHit, address: address, username: sender, detail: limit.rawValue))
            service.observer.limitHit(limit)
            self.send(
                error: .queueFull, "the recipient's queue holds \(quota) messages from you, your share of it",
                requestID: requestID, limit: limit.rawValue
            )
            return .keepOpen
        }
        // The sender's acknowledgement waits for the group commit, off this connection's path,
        // so the next frame is read at once.
        let sink = self.sink
        let observer = service.observer
        let clientMessageID = send.clientMessageID
        ticket.whenDurable { outcome in
            var reply = WireServerFrame()
            reply.requestID = requestID
            switch outcome {
            case .success:
                var accepted = WireSendAccepted()
                accepted.clientMessageID = clientMessageID
                reply.sendAccepted = accepted
            case .failure(let error) where error is StoreUnavailableError:
                observer.storeError(.send, error)
                reply = .relayError(
                    .storeUnavailable, Self.storeUnavailableText(for: error), requestID: requestID,
                    retryAfterMilliseconds: Self.storeUnavailableRetryMilliseconds
                )
            case .failure(let error):
                observer.storeError(.send, error)
                var failure = WireError()
                failure.code = .internal
                failure.message = "the relay could not store the message"
                reply.error = failure
            }
            sink.send(reply)
        }
        return .keepOpen
    }

    /// Takes a token from the message bucket, or answers with the rate-limit error.
    func takeMessageToken(requestID: UInt64, count: Int = 1) -> Bool {
        guard case .limited(let retryAfter) = messageBucket.take(count, now: service.clock.monotonicNanoseconds) else { return true }
        service.securityLog.record(SecurityEvent(kind: .limitHit, address: address, username: username, detail: "message_rate"))
        service.observer.limitHit(.messageRate)
        send(error: .rateLimited, "too many requests", requestID: requestID, retryAfter: retryAfter, limit: "message_rate")
        return false
    }

    // MARK: Prekeys

    private func handlePublish(
        _ publish: WirePublishPrekeys, username: String, identity: PublicIdentity, requestID: UInt64
    ) async throws -> Disposition {
        do {
            let signed = try publish.hasSignedPrekey ? SignedPrekey(wire: publish.signedPrekey, owner: identity).wire.encodedBytes : nil
            let postQuantum = try publish.hasPostQuantumPrekey
                ? PostQuantumPrekey(wire: publish.postQuantumPrekey, owner: identity).wire.encodedBytes : nil
            guard publish.oneTimePrekeys.count <= service.configuration.maxOneTimePrekeysPerUpload else {
                send(error: .invalidPrekey, "at most \(service.configuration.maxOneTimePrekeysPerUpload) one-time prekeys per upload", requestID: requestID)
                return .keepOpen
            }
            let oneTime = try publish.oneTimePrekeys.map { (id: $0.id, encoded: try OneTimePrekey(wire: $0).wire.encodedBytes) }
            try await service.store.publishPrekeys(username: username, signedPrekey: signed, postQuantumPrekey: postQuantum)
            let stored = try await service.store.oneTimePrekeyCount(username: username)
            let room = max(0, service.configuration.maxOneTimePrekeysStored - stored)
            let remaining = try await service.store.addOneTimePrekeys(username: username, prekeys: Array(oneTime.prefix(room)))
            service.securityLog.record(SecurityEvent(kind: .prekeysPublished, address: address, username: username))
            var frame = WireServerFrame()
            frame.requestID = requestID
            frame.done = WireDone()
            sink.send(frame)
            if remaining < service.configuration.lowPrekeyThreshold { notifyPrekeysLow(remaining: remaining) }
        } catch is IdentityError {
            send(error: .invalidPrekey, "a prekey is malformed or not signed by this identity", requestID: requestID)
        }
        return .keepOpen
    }

    private func handleFetch(_ fetch: WireFetchBundle, requestID: UInt64) async throws -> Disposition {
        // Fetches share the message bucket: each hands out a one-time prekey, and unlimited
        // fetches would drain a user's supply.
        guard takeMessageToken(requestID: requestID) else { return .keepOpen }
        guard Username.isValid(fetch.username), let account = try await service.store.account(named: fetch.username) else {
            send(error: .unknownUser, "no such user", requestID: requestID)
            return .keepOpen
        }
        guard let stored = try await service.store.takeBundle(username: fetch.username) else {
            send(error: .noPrekeys, "that user has published no prekeys", requestID: requestID)
            return .keepOpen
        }
        var bundle = WirePrekeyBundle()
        bundle.identity = try WirePublicIdentity(serializedBytes: account.identity)
        bundle.signedPrekey = try WireSignedPrekey(serializedBytes: stored.signedPrekey)
        bundle.postQuantumPrekey = try WirePostQuantumPrekey(serializedBytes: stored.postQuantumPrekey)
        if let oneTime = stored.oneTimePrekey {
            bundle.oneTimePrekey = try WireOneTimePrekey(serializedBytes: oneTime)
            let remaining = try await service.store.oneTimePrekeyCount(username: fetch.username)
            if remaining < service.configuration.lowPrekeyThreshold {
                await service.notifyPrekeysLow(username: fetch.username, remaining: remaining)
            }
        }
        var reply = WireBundle()
        reply.username = fetch.username
        reply.bundle = bundle
        var frame = WireServerFrame()
        frame.requestID = requestID
        frame.bundle = reply
        sink.send(frame)
        return .keepOpen
    }

    func notifyPrekeysLow(remaining: Int) {
        var low = WirePrekeysLow()
        low.remaining = UInt32(clamping: remaining)
        var frame = WireServerFrame()
        frame.prekeysLow = low
        sink.send(frame)
    }

    // MARK: Lifecycle

    /// Tells the client the relay is shutting down.
    public func goAway() {
        var frame = WireServerFrame()
        frame.goingAway = WireGoingAway()
        sink.send(frame)
    }

    /// The transport closed: forget the connection.
    public func close() {
        guard !closed else { return }
        closed = true
        if let username { service.registry.remove(self, for: username) }
        sink.close()
    }

    private func notAuthenticated(_ requestID: UInt64) -> Disposition {
        send(error: .notAuthenticated, "log in first", requestID: requestID)
        return .close
    }

    private func alreadyAuthenticated(_ requestID: UInt64) -> Disposition {
        send(error: .alreadyAuthenticated, "this connection is already logged in", requestID: requestID)
        return .keepOpen
    }

    /// What `CODE_STORE_UNAVAILABLE` says, by cause, and when to try again (PROTOCOL.md 12.7).
    static let storeUnavailableText = "the relay cannot store anything now; try again later"
    static let diskFullText = "the relay's disk is full; try again later"
    static let storeUnavailableRetryMilliseconds: UInt32 = 1000

    static func storeUnavailableText(for error: any Error) -> String {
        (error as? StoreUnavailableError)?.isDiskFull == true ? diskFullText : storeUnavailableText
    }

    private func sendStoreUnavailable(_ error: StoreUnavailableError, requestID: UInt64) {
        send(
            error: .storeUnavailable, Self.storeUnavailableText(for: error), requestID: requestID,
            retryAfter: Self.storeUnavailableRetryMilliseconds
        )
    }

    func send(
        error code: WireError.Code, _ message: String, requestID: UInt64, retryAfter: UInt32 = 0, limit: String = ""
    ) {
        sink.send(.relayError(code, message, requestID: requestID, retryAfterMilliseconds: retryAfter, limit: limit))
    }
}

extension WireServerFrame {
    /// An error frame; `message` comes from a fixed set of texts, never from content.
    public static func relayError(
        _ code: WireError.Code, _ message: String, requestID: UInt64 = 0, retryAfterMilliseconds: UInt32 = 0, limit: String = ""
    ) -> WireServerFrame {
        var error = WireError()
        error.code = code
        error.message = message
        error.retryAfterMs = retryAfterMilliseconds
        error.limit = limit
        var frame = WireServerFrame()
        frame.requestID = requestID
        frame.error = error
        return frame
    }
}
