import CipherCore
import CipherWire
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Receiving files: offers arrive as messages; `downloadFile` fetches the blob's chunks,
/// decrypts each straight to a partial file beside the output, and gives the file its name only
/// once the manifest's SHA-256 matched. An interrupted download resumes from its partial file.
extension ChatClient {
    /// The suffix of a download in progress.
    public static let partialSuffix = ".cipherchat-partial"

    /// Stores a received offer and returns the line shown for it (called in the delivery's
    /// transaction). A room's receive path calls it with the room's sender.
    func receiveFileOffer(_ payload: Payload, from sender: String, verified: Bool, changes: StoreChanges) throws -> ChatRecord {
        var changes = changes
        guard let record = try fileOfferRecord(payload, from: sender, room: nil, verified: verified, into: &changes) else {
            // The session moved on: keep its state, drop the message as one that does not decrypt.
            try store.commit(changes)
            throw DecryptionError.malformed
        }
        try store.commit(changes)
        return record
    }

    /// The offer stored into `changes`, and the line shown for it; nil for a malformed offer, or
    /// one naming another room than the one it came through (`room`, nil for a pairwise one).
    func fileOfferRecord(
        _ payload: Payload, from sender: String, room: String?, verified: Bool, into changes: inout StoreChanges
    ) throws -> ChatRecord? {
        guard let offer = try? FileOffer(serialized: payload.content), offer.room == room else { return nil }
        let file = ReceivedFile(offer: offer, from: sender, receivedAtMilliseconds: Self.nowMilliseconds)
        var record = ChatRecord(
            id: Hex.encode(payload.messageID), from: sender, to: offer.room ?? username, sentAtMilliseconds: payload.sentAtMilliseconds,
            receivedAtMilliseconds: file.receivedAtMilliseconds, kind: "file", text: Self.fileLine(offer), verified: verified
        )
        record.room = room
        record.file = OfferedFile(id: file.id, name: offer.manifest.name, size: offer.manifest.size)
        changes.put("file", file.id, try file.jsonBytes())
        changes.history.append((record.id, try record.jsonBytes()))
        return record
    }

    /// Files received, oldest first.
    public func receivedFiles() throws -> [ReceivedFile] {
        try store.items("file").map { try ReceivedFile.fromJSON($0.value) }.sorted { $0.receivedAtMilliseconds < $1.receivedAtMilliseconds }
    }

    /// The received file whose id is `id` or starts with it.
    public func receivedFile(_ id: String) throws -> ReceivedFile {
        let wanted = id.lowercased()
        let matches = try receivedFiles().filter { $0.id == wanted || (wanted.count >= 4 && $0.id.hasPrefix(wanted)) }
        guard let file = matches.first else { throw FileTransferError.unknownFile(id) }
        guard matches.count == 1 else { throw FileTransferError.ambiguousFile(id) }
        return file
    }

    /// Fetches and checks a received file, writing it to `output` (the file's own name, made
    /// safe, in the current directory by default). Tells the relay once the file is whole, so
    /// that it can delete the blob.
    @discardableResult
    public func downloadFile(id: String, to output: String?, progress: TransferProgressHandler? = nil) async throws -> ReceivedFile {
        var file = try receivedFile(id)
        if let saved = file.savedTo { throw FileTransferError.alreadySaved(saved) }
        let offer = try file.fileOffer()
        let path = output ?? ReceivedFileName.safe(offer.manifest.name)
        // Early and friendly; `PartialFile.place` refuses again, atomically.
        guard !PartialFile.entryExists(path) else { throw FileTransferError.outputExists(path) }
        let partial = path + Self.partialSuffix
        try await withTransferRetries { try await self.downloadOnce(offer, partial: partial, progress: progress) }
        try PartialFile.place(partial, at: path)
        try await withTransferRetries {
            var received = WireBlobReceived()
            received.blobID = Data(offer.blobID)
            _ = try await self.currentLink().request(.blobReceived(received))
        }
        file.savedTo = path
        var changes = StoreChanges()
        changes.put("file", file.id, try file.jsonBytes())
        try store.commit(changes)
        return file
    }

    /// One attempt: keeps the whole chunks already in the partial file (hashing them again),
    /// fetches the rest in order with a bounded window, and checks the whole file.
    private nonisolated func downloadOnce(_ offer: FileOffer, partial: String, progress: TransferProgressHandler?) async throws {
        let manifest = offer.manifest
        let descriptor = try PartialFile.open(partial)
        defer { Glibc.close(descriptor) }
        var decryptor = FileDecryptor(manifest: manifest)
        do {
            try Self.resume(&decryptor, from: descriptor, partial: partial)
            let resumedAt = TransferProgress.bytes(inChunks: decryptor.openedChunks, chunkSize: manifest.chunkSize, totalBytes: manifest.size)
            let report = { (chunks: UInt64) in
                let done = TransferProgress.bytes(inChunks: chunks, chunkSize: manifest.chunkSize, totalBytes: manifest.size)
                progress?(TransferProgress(bytesDone: done, totalBytes: manifest.size, resumedAt: resumedAt))
            }
            report(decryptor.openedChunks)
            let link = try await currentLink()
            var fetcher = ChunkFetcher(link: link, blobID: offer.blobID, next: decryptor.openedChunks, end: manifest.chunkCount)
            while let chunk = try await fetcher.next() {
                let plaintext = try decryptor.open(chunk)
                try Self.writeFully(descriptor, plaintext, path: partial)
                // Written back as it arrives, so the sync below waits for little.
                let end = Int64(Glibc.lseek(descriptor, 0, SEEK_CUR))
                FileWriteback.start(descriptor, offset: end - Int64(plaintext.count), count: Int64(plaintext.count))
                report(decryptor.openedChunks)
            }
            try decryptor.finish()
            guard Glibc.fsync(descriptor) == 0 else { throw FileTransferError.unwritable(partial) }
        } catch is FileError {
            // Nothing of a file that failed its checks is kept, not even the part that passed.
            Glibc.unlink(partial)
            throw FileTransferError.refused(name: manifest.name)
        }
    }

    /// Feeds the whole chunks of the partial file to `decryptor` and cuts off any part chunk.
    private static func resume(_ decryptor: inout FileDecryptor, from descriptor: Int32, partial: String) throws {
        let manifest = decryptor.manifest
        let existing = UInt64(max(0, Glibc.lseek(descriptor, 0, SEEK_END)))
        let chunks = min(existing / UInt64(manifest.chunkSize), manifest.chunkCount - 1)
        guard Glibc.ftruncate(descriptor, off_t(chunks * UInt64(manifest.chunkSize))) == 0, Glibc.lseek(descriptor, 0, SEEK_SET) == 0 else {
            throw FileTransferError.unwritable(partial)
        }
        var buffer = [UInt8](repeating: 0, count: manifest.chunkSize)
        for _ in 0..<chunks {
            guard try Self.readFully(descriptor, into: &buffer, path: partial) == manifest.chunkSize else {
                throw FileTransferError.unwritable(partial)
            }
            try buffer.withUnsafeBytes { try decryptor.resume(withOpenedChunk: $0) }
        }
    }

    static func writeFully(_ descriptor: Int32, _ bytes: Data, path: String) throws {
        try bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0, errno == EINTR { continue }
                guard written > 0 else { throw FileTransferError.unwritable(path) }
                offset += written
            }
        }
    }
}

/// Requests chunks `next..<end` in order, at most `ChatClient.transferWindow` at once.
struct ChunkFetcher {
    let link: RelayLink
    let blobID: [UInt8]
    private var nextIndex: UInt64
    private let end: UInt64
    private var inFlight: [Task<Data, any Error>] = []

    init(link: RelayLink, blobID: [UInt8], next: UInt64, end: UInt64) {
        self.link = link
        self.blobID = blobID
        self.nextIndex = next
        self.end = end
    }

    mutating func next() async throws -> Data? {
        while inFlight.count < ChatClient.transferWindow, nextIndex < end {
            var request = WireBlobChunkRequest()
            request.blobID = Data(blobID)
            request.index = nextIndex
            let link = self.link
            let index = nextIndex
            inFlight.append(Task {
                guard case .blobChunk(let chunk) = try await link.request(.blobChunkRequest(request)).body, chunk.index == index else {
                    throw RelayError.unexpectedReply
                }
                return chunk.data
            })
            nextIndex += 1
        }
        guard !inFlight.isEmpty else { return nil }
        return try await inFlight.removeFirst().value
    }
}
