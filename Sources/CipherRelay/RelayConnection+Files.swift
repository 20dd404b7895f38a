import CipherCore
import CipherWire
import Foundation

/// Uploads and downloads of encrypted files (PROTOCOL.md 12.8). The relay checks sizes, indexes
/// and who may fetch what; it never sees a file key, so it cannot tell a file from noise.
extension RelayConnection {
    func handleFileFrame(_ frame: WireClientFrame, username: String) async throws -> Disposition {
        let requestID = frame.requestID
        switch frame.body {
        case .blobUploadStart(let start):
            try await handleUploadStart(start, owner: username, requestID: requestID)
        case .blobChunkUpload(let upload):
            try await handleChunkUpload(upload, owner: username, requestID: requestID)
        case .blobUploadFinish(let finish):
            try await handleUploadFinish(finish, owner: username, requestID: requestID)
        case .blobChunkRequest(let request):
            try await handleChunkRequest(request, username: username, requestID: requestID)
        case .blobReceived(let received):
            try await handleReceived(received, username: username, requestID: requestID)
        default:
            preconditionFailure("handleFileFrame called with a frame that is not about files")
        }
        return .keepOpen
    }

    private func handleUploadStart(_ start: WireBlobUploadStart, owner: String, requestID: UInt64) async throws {
        let configuration = service.configuration
        let layout = BlobLayout(size: start.size, chunkSize: start.chunkSize)
        guard start.blobID.count == FileOffer.blobIDSize, layout.isValid,
              Int(start.chunkSize) <= configuration.maxFrameSize - Self.chunkFrameOverhead else {
            send(error: .invalidChunk, "the blob id, size or chunk size is not valid", requestID: requestID)
            return
        }
        guard layout.plaintextSize <= configuration.maxFileSize else {
            service.securityLog.record(SecurityEvent(kind: .limitHit, address: address, username: owner, detail: "file_size"))
            send(error: .blobTooLarge, "files are limited to \(configuration.maxFileSize) bytes", requestID: requestID, limit: "file_size")
            return
        }
        guard !start.recipients.isEmpty, start.recipients.count <= configuration.maxBlobRecipients else {
            send(error: .invalidChunk, "a file needs 1 to \(configuration.maxBlobRecipients) recipients", requestID: requestID)
            return
        }
        // Tokens of the message rate before the account look-ups, one per as many recipients as
        // a room message gets for one: a start names up to 1000, each a store read.
        let perToken = max(configuration.roomRecipientsPerMessageToken, 1)
        guard takeMessageToken(requestID: requestID, count: 1 + (start.recipients.count - 1) / perToken) else { return }
        for recipient in start.recipients {
            guard Username.isValid(recipient), try await service.accountExists(recipient) else {
                send(error: .unknownUser, "no such user", requestID: requestID)
                return
            }
        }
        let id = Array(start.blobID)
        let proposed = StoredBlob(
            id: id, owner: owner, recipients: start.recipients, size: start.size, chunkSize: start.chunkSize,
            createdAtMilliseconds: service.clock.wallMilliseconds
        )
        var blob: StoredBlob
        switch try await service.store.createBlob(proposed, ownerQuota: configuration.blobQuota) {
        case .created(let created):
            blob = created
        case .exists(let existing):
            // A resume: the same owner, the same stream. Anything else is another upload.
            guard existing.owner == owner, existing.size == start.size, existing.chunkSize == start.chunkSize else {
                send(error: .blobMismatch, "a different blob has that id", requestID: requestID)
                return
            }
            blob = existing
        case .quotaExceeded(let quota):
            service.securityLog.record(SecurityEvent(kind: .limitHit, address: address, username: owner, detail: "blob_quota"))
            send(error: .blobQuotaExceeded, "your stored files are limited to \(quota) bytes", requestID: requestID, limit: "blob_quota")
            return
        }
        if !blob.complete {
            // The one place a blob's folder is made: after its metadata, which the sweep of
            // folders without metadata looks for (RelayService+Blobs.swift).
            try await service.blobChunks.startBlob(blobID: id)
            // Chunks written but not yet synced count once synced: the resume starts after them.
            try await service.blobChunks.makeDurable(blobID: id)
            let stored = try await service.blobChunks.storedPrefix(blobID: id, layout: layout)
            if stored != blob.storedChunks {
                try await service.store.updateBlobProgress(id: id, storedChunks: stored, complete: false)
                blob.storedChunks = stored
            }
        }
        remember(blob)
        reply(status(of: blob), requestID: requestID)
    }

    private func handleChunkUpload(_ upload: WireBlobChunkUpload, owner: String, requestID: UInt64) async throws {
        let id = Array(upload.blobID)
        guard let blob = openBlobs[id], blob.owner == owner else {
            send(error: .unknownBlob, "no such blob: start the upload first", requestID: requestID)
            return
        }
        let layout = blob.layout
        guard upload.index < layout.chunkCount, upload.data.count == layout.chunkLength(upload.index) else {
            send(error: .invalidChunk, "the chunk's index or length does not fit the blob", requestID: requestID)
            return
        }
        if !blob.complete {
            // `openBlobs` may be stale: another connection may have deleted the blob since. The
            // storage has no place for a deleted blob, and makes none.
            guard try await service.blobChunks.storeChunk(upload.data, blobID: id, index: upload.index, layout: layout) else {
                openBlobs.removeValue(forKey: id)
                send(error: .unknownBlob, "no such blob: start the upload first", requestID: requestID)
                return
            }
            service.observer.fileChunkTransferred(bytes: upload.data.count, direction: .in)
        }
        var stored = WireBlobChunkStored()
        stored.blobID = upload.blobID
        stored.index = upload.index
        var frame = WireServerFrame()
        frame.requestID = requestID
        frame.blobChunkStored = stored
        sink.send(frame)
    }

    private func handleUploadFinish(_ finish: WireBlobUploadFinish, owner: String, requestID: UInt64) async throws {
        let id = Array(finish.blobID)
        guard var blob = try await knownBlob(id), blob.owner == owner else {
            send(error: .unknownBlob, "no such blob", requestID: requestID)
            return
        }
        if !blob.complete {
            // Recipients are told of the file only after this answer: it must outlive a crash.
            try await service.blobChunks.makeDurable(blobID: id)
            let stored = try await service.blobChunks.storedPrefix(blobID: id, layout: blob.layout)
            guard stored == blob.layout.chunkCount else {
                try await service.store.updateBlobProgress(id: id, storedChunks: stored, complete: false)
                send(error: .blobIncomplete, "not every chunk of the blob is stored", requestID: requestID)
                return
            }
            try await service.store.updateBlobProgress(id: id, storedChunks: stored, complete: true)
            blob.storedChunks = stored
            blob.complete = true
            remember(blob)
        }
        reply(status(of: blob), requestID: requestID)
    }

    private func handleChunkRequest(_ request: WireBlobChunkRequest, username: String, requestID: UInt64) async throws {
        let id = Array(request.blobID)
        // One answer for a blob that does not exist and one the user may not fetch: the relay
        // does not confirm other people's blob ids.
        guard let blob = try await knownBlob(id), blob.owner == username || blob.recipients.contains(username) else {
            send(error: .unknownBlob, "no such blob", requestID: requestID)
            return
        }
        guard blob.complete else {
            send(error: .blobIncomplete, "the blob is still being uploaded", requestID: requestID)
            return
        }
        let layout = blob.layout
        guard request.index < layout.chunkCount else {
            send(error: .invalidChunk, "the chunk index is past the blob's end", requestID: requestID)
            return
        }
        guard let bytes = try await service.blobChunks.chunk(blobID: id, index: request.index, layout: layout) else {
            send(error: .blobIncomplete, "a chunk of the blob is missing", requestID: requestID)
            return
        }
        var chunk = WireBlobChunk()
        chunk.blobID = request.blobID
        chunk.index = request.index
        chunk.data = bytes
        var frame = WireServerFrame()
        frame.requestID = requestID
        frame.blobChunk = chunk
        sink.send(frame)
        service.observer.fileChunkTransferred(bytes: bytes.count, direction: .out)
    }

    private func handleReceived(_ received: WireBlobReceived, username: String, requestID: UInt64) async throws {
        let id = Array(received.blobID)
        guard let blob = try await knownBlob(id), blob.recipients.contains(username) else {
            send(error: .unknownBlob, "no such blob", requestID: requestID)
            return
        }
        // A recipient cannot have fetched what is not all there, and its word must not delete
        // an upload under way (the uploader would lose it, and used to write on regardless).
        guard blob.complete else {
            send(error: .blobIncomplete, "the blob is still being uploaded", requestID: requestID)
            return
        }
        if let updated = try await service.store.recordBlobFetched(id: id, by: username), updated.fetchedByAll {
            try await service.store.deleteBlob(id: id)
            try await service.blobChunks.deleteChunks(blobID: id)
        }
        openBlobs.removeValue(forKey: id)
        var frame = WireServerFrame()
        frame.requestID = requestID
        frame.done = WireDone()
        sink.send(frame)
    }

    /// The frame around a chunk: the request id, blob id, index and field tags. A chunk of up to
    /// `maxFrameSize` less this fits in one frame.
    static let chunkFrameOverhead = 1024
    /// How many blobs a connection keeps in `openBlobs`: a client works on a few at a time.
    static let maxOpenBlobs = 64

    private func knownBlob(_ id: [UInt8]) async throws -> StoredBlob? {
        if let blob = openBlobs[id], blob.complete { return blob }
        guard let blob = try await service.store.blob(id: id) else { return nil }
        remember(blob)
        return blob
    }

    private func remember(_ blob: StoredBlob) {
        if openBlobs.count >= Self.maxOpenBlobs, openBlobs[blob.id] == nil { openBlobs.removeAll() }
        openBlobs[blob.id] = blob
    }

    private func status(of blob: StoredBlob) -> WireBlobUploadStatus {
        var status = WireBlobUploadStatus()
        status.blobID = Data(blob.id)
        status.storedChunks = blob.storedChunks
        status.chunkCount = blob.layout.chunkCount
        status.complete = blob.complete
        return status
    }

    private func reply(_ status: WireBlobUploadStatus, requestID: UInt64) {
        var frame = WireServerFrame()
        frame.requestID = requestID
        frame.blobUploadStatus = status
        sink.send(frame)
    }
}
