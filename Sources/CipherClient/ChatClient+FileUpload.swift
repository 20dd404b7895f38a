import CipherCore
import CipherWire
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Sending files (PROTOCOL.md 9.4 and 12.8): the file is encrypted chunk by chunk as it is read
/// and uploaded as a blob; its key and manifest then go to each recipient in an end-to-end
/// encrypted `FileOffer`. Memory is a few chunks, whatever the file's size.
extension ChatClient {
    /// Plaintext bytes per chunk: large enough that a gigabyte is few frames, small enough that
    /// an encrypted chunk and its frame fit in the relay's 1 MiB frame limit.
    public static let fileChunkSize = 256 * 1024
    /// Chunk requests in flight at once on one connection.
    static let transferWindow = 8
    /// Connection losses a transfer rides out (reconnecting each time) before it gives up.
    static let transferAttempts = 40
    /// Chunks let out per durable record of the upload's progress: 1 MiB per disk sync, and
    /// little more held in memory than the window of chunks in flight.
    static let chunksPerRecord = 4

    /// Sends the file at `path` to one user: uploads it, then sends them the offer.
    @discardableResult
    public func sendFile(at path: String, to recipient: String, progress: TransferProgressHandler? = nil) async throws -> ReceivedFile {
        guard Username.isValid(recipient) else { throw ClientError.invalidUsername(recipient) }
        let offer = try await uploadFile(at: path, recipients: [recipient], room: nil, progress: progress)
        try await sendFileOffer(offer, to: recipient)
        try forgetUpload(offer.blobID)
        return ReceivedFile(offer: offer, from: username, receivedAtMilliseconds: Self.nowMilliseconds)
    }

    /// Sends the file at `path` to a room: uploads it for the room's other members (as this
    /// client has checked them, after catching up with the relay), then sends the offer to the
    /// room under this member's sender key.
    @discardableResult
    public func sendFile(at path: String, toRoom room: String, progress: TransferProgressHandler? = nil) async throws -> ReceivedFile {
        let membership = try await members(of: room)
        let recipients = membership.usernames.filter { $0 != username }
        guard !recipients.isEmpty else { throw FileTransferError.noRecipients(room) }
        let offer = try await uploadFile(at: path, recipients: recipients, room: room, progress: progress)
        let payload = Payload(kind: .fileOffer, content: offer.serialized, sentAtMilliseconds: Self.nowMilliseconds, random: random)
        try await sendToRoom(room, payload: payload)
        try forgetUpload(offer.blobID)
        return ReceivedFile(offer: offer, from: username, receivedAtMilliseconds: Self.nowMilliseconds)
    }

    /// Uploads the file at `path` so that `recipients` may download it, and returns the offer to
    /// send them. Sending the same unchanged file to the same recipients again resumes an upload
    /// that was interrupted. A room sends the returned offer through its own channel (a payload
    /// of kind `.fileOffer` to the room), then calls `forgetUpload`.
    public func uploadFile(
        at path: String, recipients: [String], room: String?, progress: TransferProgressHandler? = nil
    ) async throws -> FileOffer {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        let snapshot = try FileSnapshot(path: absolute)
        let sortedRecipients = Array(Set(recipients)).sorted()
        var upload = try pendingUpload(path: absolute, recipients: sortedRecipients, room: room, snapshot: snapshot)
        let manifest: FileManifest
        do {
            let first = upload
            manifest = try await withTransferRetries { try await self.uploadOnce(first, progress: progress) }
        } catch is UploadMustRestart {
            // The file is not what was let out under this key: a new key, a new blob.
            logger.notice("the file changed since its upload began: starting it again")
            if let oldID = Hex.decode(upload.blobID) { try forgetUpload(oldID) }
            upload = try pendingUpload(path: absolute, recipients: sortedRecipients, room: room, snapshot: FileSnapshot(path: absolute))
            let again = upload
            manifest = try await withTransferRetries { try await self.uploadOnce(again, progress: progress) }
        }
        guard let blobID = Hex.decode(upload.blobID) else { throw ClientError.storeCorrupted }
        return FileOffer(blobID: blobID, manifest: manifest, room: room)
    }

    /// Forgets a finished upload once its offers are on their way.
    public func forgetUpload(_ blobID: [UInt8]) throws {
        var changes = StoreChanges()
        changes.delete("upload", Hex.encode(blobID))
        changes.delete("upload-sent", Hex.encode(blobID))
        try store.commit(changes)
    }

    /// Chunks that may leave are recorded durably first (SentChunkDigest).
    func uploadProgress(_ blobID: String) throws -> UploadProgress? {
        try store.item("upload-sent", blobID).map { try JSONDecoder().decode(UploadProgress.self, from: Data($0)) }
    }

    func recordUploadProgress(_ blobID: String, _ progress: UploadProgress) throws {
        var changes = StoreChanges()
        changes.put("upload-sent", blobID, Array(try JSONEncoder().encode(progress)))
        try store.commit(changes)
    }

    /// Sends an offer to one user over the pairwise session, through the outbox.
    func sendFileOffer(_ offer: FileOffer, to recipient: String) async throws {
        let payload = Payload(kind: .fileOffer, content: offer.serialized, sentAtMilliseconds: Self.nowMilliseconds, random: random)
        let (entry, _) = try await sealForSending(payload, to: recipient, kind: "file", text: Self.fileLine(offer))
        try await deliver(entry)
    }

    /// How a file shows in the chat and in `recv`: its name, size and id.
    static func fileLine(_ offer: FileOffer) -> String {
        "file \(offer.manifest.name) (\(offer.manifest.size) bytes) id \(Hex.encode(offer.blobID))"
    }

    /// The upload to resume for this file and these recipients, or a new one, stored before
    /// anything is sent.
    private func pendingUpload(path: String, recipients: [String], room: String?, snapshot: FileSnapshot) throws -> PendingUpload {
        for (_, value) in try store.items("upload") {
            let upload = try PendingUpload.fromJSON(value)
            if upload.path == path, upload.recipients == recipients, upload.room == room, snapshot.matches(upload) {
                return upload
            }
        }
        let encryptor = FileEncryptor(random: random, chunkSize: Self.fileChunkSize)
        let upload = PendingUpload(
            blobID: Hex.encode(random.bytes(FileOffer.blobIDSize)), key: encryptor.withFileKey { SecretBytes(Array($0)) },
            path: path, size: snapshot.size, modified: snapshot.modified, inode: snapshot.inode,
            recipients: recipients, room: room, chunkSize: Self.fileChunkSize
        )
        var changes = StoreChanges()
        changes.put("upload", upload.blobID, try upload.jsonBytes())
        try store.commit(changes)
        return upload
    }

    /// One attempt: asks the relay what it has, encrypts the whole file again (the same key
    /// gives the same chunks) and uploads the chunks it lacks, then finishes the blob. Off the
    /// actor: messages keep arriving while a large file is read and encrypted.
    private nonisolated func uploadOnce(_ upload: PendingUpload, progress: TransferProgressHandler?) async throws -> FileManifest {
        let key = upload.key.withBytes { $0 }
        guard let blobID = Hex.decode(upload.blobID) else { throw ClientError.storeCorrupted }
        let link = try await currentLink()
        let chunkCount = upload.size == 0 ? 1 : (upload.size + UInt64(upload.chunkSize) - 1) / UInt64(upload.chunkSize)
        var start = WireBlobUploadStart()
        start.blobID = Data(blobID)
        start.size = upload.size + chunkCount * 16
        start.chunkSize = UInt32(upload.chunkSize + 16)
        start.recipients = upload.recipients
        guard case .blobUploadStatus(let status) = try await link.request(.blobUploadStart(start)).body else {
            throw RelayError.unexpectedReply
        }
        let firstMissing = status.complete ? chunkCount : status.storedChunks
        let resumedAt = TransferProgress.bytes(inChunks: firstMissing, chunkSize: upload.chunkSize, totalBytes: upload.size)
        let report = { (chunks: UInt64) in
            let done = TransferProgress.bytes(inChunks: chunks, chunkSize: upload.chunkSize, totalBytes: upload.size)
            progress?(TransferProgress(bytesDone: max(done, resumedAt), totalBytes: upload.size, resumedAt: resumedAt))
        }
        report(firstMissing)

        // O_NONBLOCK: a FIFO swapped in for the file must not hold the open (fstat refuses it);
        // reads of a regular file ignore it.
        let descriptor = Glibc.open(upload.path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileTransferError.unreadable(upload.path) }
        defer { Glibc.close(descriptor) }
        guard try FileSnapshot(descriptor: descriptor, path: upload.path).matches(upload) else {
            throw FileTransferError.changedDuringUpload(upload.path)
        }
        // What earlier attempts may have let out. The relay holding chunks this client has no
        // record of (a store from before records were kept) cannot be checked: start over.
        let letOut = try await uploadProgress(upload.blobID)
        guard letOut != nil || firstMissing == 0 else { throw UploadMustRestart() }

        var encryptor = try FileEncryptor(resumingWith: key, chunkSize: upload.chunkSize)
        var sender = ChunkUploader(link: link, blobID: blobID, firstMissing: firstMissing)
        var digest = SentChunkDigest()
        var recorded = letOut?.chunks ?? 0
        // Sealed chunks wait here until the digest has matched what was let out before, and
        // until a durable record covers them; a batch costs one disk sync.
        var waiting: [Data] = []
        // The file's size is known, so each read is one chunk, sealed where it was read.
        var buffer = [UInt8](repeating: 0, count: upload.chunkSize)
        for index in 0..<chunkCount {
            let isFinal = index == chunkCount - 1
            let expected = isFinal ? Int(upload.size - index * UInt64(upload.chunkSize)) : upload.chunkSize
            guard try Self.readFully(descriptor, into: &buffer, path: upload.path) == expected else {
                throw FileTransferError.changedDuringUpload(upload.path)
            }
            let chunk = try buffer.withUnsafeBytes { try encryptor.seal(chunk: UnsafeRawBufferPointer(rebasing: $0.prefix(expected)), isFinal: isFinal) }
            digest.add(sealedChunk: chunk)
            if let letOut, digest.chunks == letOut.chunks, !constantTimeEquals(digest.value, Hex.decode(letOut.digest) ?? []) {
                throw UploadMustRestart()
            }
            if index >= firstMissing { waiting.append(chunk) }
            let verified = digest.chunks >= (letOut?.chunks ?? 0)
            guard verified, waiting.count >= Self.chunksPerRecord || isFinal, !waiting.isEmpty else {
                // A relay claiming to hold less than was let out cannot make this buffer grow.
                guard waiting.count <= 4 * Self.chunksPerRecord else { throw UploadMustRestart() }
                continue
            }
            if digest.chunks > recorded {
                try await recordUploadProgress(upload.blobID, UploadProgress(chunks: digest.chunks, digest: Hex.encode(digest.value)))
                recorded = digest.chunks
            }
            for waitingChunk in waiting { try await sender.send(waitingChunk) }
            waiting.removeAll(keepingCapacity: true)
            report(index + 1)
        }
        guard try Self.readFully(descriptor, into: &buffer, path: upload.path) == 0 else {
            throw FileTransferError.changedDuringUpload(upload.path)
        }
        let name = (upload.path as NSString).lastPathComponent
        let manifest = try encryptor.manifest(name: name.isEmpty ? "file" : String(name.utf8.prefix(255)) ?? "file")
        try await sender.drain()
        guard manifest.size == upload.size else { throw FileTransferError.changedDuringUpload(upload.path) }
        if !status.complete {
            var finish = WireBlobUploadFinish()
            finish.blobID = Data(blobID)
            guard case .blobUploadStatus(let finished) = try await link.request(.blobUploadFinish(finish)).body, finished.complete else {
                throw RelayError.unexpectedReply
            }
        }
        return manifest
    }

    /// Fills `buffer` unless the file ends first; returns how many bytes were read.
    static func readFully(_ descriptor: Int32, into buffer: inout [UInt8], path: String) throws -> Int {
        let capacity = buffer.count
        return try buffer.withUnsafeMutableBytes { bytes in
            var filled = 0
            while filled < capacity {
                let got = Glibc.read(descriptor, bytes.baseAddress! + filled, capacity - filled)
                if got < 0, errno == EINTR { continue }
                guard got >= 0 else { throw FileTransferError.unreadable(path) }
                if got == 0 { break }
                filled += got
            }
            return filled
        }
    }

    /// Runs a transfer attempt again after a lost connection (the client reconnects meanwhile)
    /// or a relay that could not complete a request; a refusal is final, and so is a relay that
    /// cannot store now (the transfer resumes when it is run again).
    nonisolated func withTransferRetries<Result: Sendable>(_ attempt: @Sendable () async throws -> Result) async throws -> Result {
        var failures = 0
        while true {
            do {
                return try await attempt()
            } catch let error as RelayError where error == .connectionClosed || error.code == .internal {
                failures += 1
                guard failures < Self.transferAttempts else { throw error }
                logger.debug("file transfer interrupted, resuming", metadata: ["attempt": "\(failures)"])
                try await Task.sleep(for: .milliseconds(100))
            } catch let error as RelayError where error.code == .storeUnavailable {
                // Not retried here: a full disk or a database outage may last. The chunks the
                // relay stored stay, and the next attempt starts after them.
                throw FileTransferError.relayUnavailable(error)
            } catch let error as RelayError {
                throw FileTransferError.relay(error)
            }
        }
    }
}

/// The file differs from what an earlier attempt let out under the upload's key.
struct UploadMustRestart: Error {}

/// Uploads chunks in order with a bounded window of requests in flight: the relay's replies
/// pace the sender, so memory holds at most `ChatClient.transferWindow` chunks.
/// It is handed the chunks from `firstMissing` on, in order.
struct ChunkUploader {
    let link: RelayLink
    let blobID: [UInt8]
    private var index: UInt64
    private var inFlight: [Task<Void, any Error>] = []

    init(link: RelayLink, blobID: [UInt8], firstMissing: UInt64) {
        self.link = link
        self.blobID = blobID
        index = firstMissing
    }

    mutating func send(_ chunk: Data) async throws {
        defer { index += 1 }
        var upload = WireBlobChunkUpload()
        upload.blobID = Data(blobID)
        upload.index = index
        upload.data = chunk
        let link = self.link
        inFlight.append(Task {
            guard case .blobChunkStored = try await link.request(.blobChunkUpload(upload)).body else { throw RelayError.unexpectedReply }
        })
        if inFlight.count >= ChatClient.transferWindow {
            try await inFlight.removeFirst().value
        }
    }

    mutating func drain() async throws {
        while !inFlight.isEmpty { try await inFlight.removeFirst().value }
    }
}
