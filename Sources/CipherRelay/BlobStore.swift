import Foundation

/// What the relay keeps about each uploaded file (PROTOCOL.md 12.8): the metadata lives in the
/// `RelayStore`, the encrypted chunks in a `BlobChunkStorage` (files on disk). Nothing here
/// opens a file: a blob is ciphertext under a key only its recipients were sent.

/// One blob's metadata. Sizes count the encrypted stream.
public struct StoredBlob: Sendable, Hashable {
    /// random(16), chosen by the uploader.
    public let id: [UInt8]
    public let owner: String
    /// The users who may download it, sorted, without repeats.
    public let recipients: [String]
    public let size: UInt64
    public let chunkSize: UInt32
    public let createdAtMilliseconds: UInt64
    /// Chunks 0 up to this index are on disk, as far as the relay last checked.
    public var storedChunks: UInt64
    /// Every chunk is stored and the owner finished the upload: recipients may download it.
    public var complete: Bool
    /// Recipients who said they have the whole file, sorted.
    public var fetchedBy: [String]

    public init(
        id: [UInt8], owner: String, recipients: [String], size: UInt64, chunkSize: UInt32, createdAtMilliseconds: UInt64,
        storedChunks: UInt64 = 0, complete: Bool = false, fetchedBy: [String] = []
    ) {
        self.id = id
        self.owner = owner
        self.recipients = Array(Set(recipients)).sorted()
        self.size = size
        self.chunkSize = chunkSize
        self.createdAtMilliseconds = createdAtMilliseconds
        self.storedChunks = storedChunks
        self.complete = complete
        self.fetchedBy = Array(Set(fetchedBy)).sorted()
    }

    public var layout: BlobLayout { BlobLayout(size: size, chunkSize: chunkSize) }

    /// Whether every recipient has the file, so the blob can go.
    public var fetchedByAll: Bool { Set(recipients).isSubset(of: Set(fetchedBy)) }
}

public enum BlobCreation: Sendable, Hashable {
    case created(StoredBlob)
    /// A blob with this id exists: the caller decides whether it is the same upload.
    case exists(StoredBlob)
    /// The owner's blobs would take more than `quota` bytes.
    case quotaExceeded(quota: UInt64)
}

public protocol BlobStore: Sendable {
    /// Records a new blob unless its id exists, atomically with the quota check: the owner's
    /// blobs, this one included, may take at most `ownerQuota` bytes.
    func createBlob(_ blob: StoredBlob, ownerQuota: UInt64) async throws -> BlobCreation
    func blob(id: [UInt8]) async throws -> StoredBlob?
    func updateBlobProgress(id: [UInt8], storedChunks: UInt64, complete: Bool) async throws
    /// Records that `username` has the whole file; returns the blob as it now is.
    func recordBlobFetched(id: [UInt8], by username: String) async throws -> StoredBlob?
    func deleteBlob(id: [UInt8]) async throws
    /// Deletes the metadata of blobs created before `cutoff`; returns their ids, so that the
    /// caller deletes their chunks.
    func expireBlobs(createdBefore cutoffMilliseconds: UInt64) async throws -> [[UInt8]]
}

/// How an encrypted stream of `size` bytes is cut into chunks of `chunkSize` bytes (PROTOCOL.md
/// 9.2 seen from the relay: every chunk but the last is `chunkSize` bytes, the last 16 bytes or
/// more, since each carries a 16-byte tag).
public struct BlobLayout: Sendable, Hashable {
    public static let tagSize: UInt64 = 16
    public let size: UInt64
    public let chunkSize: UInt32

    public init(size: UInt64, chunkSize: UInt32) {
        self.size = size
        self.chunkSize = chunkSize
    }

    public var chunkCount: UInt64 {
        chunkSize == 0 ? 0 : max(1, (size + UInt64(chunkSize) - 1) / UInt64(chunkSize))
    }

    /// The smallest chunk the format allows: 1024 bytes of plaintext and the tag. It also
    /// bounds how many chunk files one blob can make.
    public static let minimumChunkSize: UInt32 = 1024 + 16

    /// Whether this is a stream the format can produce: the relay refuses any other.
    public var isValid: Bool {
        guard chunkSize >= Self.minimumChunkSize, size >= Self.tagSize, size <= (1 << 51) else { return false }
        return lastChunkLength >= Self.tagSize
    }

    /// The file's own size: the stream less one tag per chunk.
    public var plaintextSize: UInt64 { size - chunkCount * Self.tagSize }

    var lastChunkLength: UInt64 { size - (chunkCount - 1) * UInt64(chunkSize) }

    /// The length chunk `index` must have; `index` below `chunkCount`.
    public func chunkLength(_ index: UInt64) -> Int {
        index == chunkCount - 1 ? Int(lastChunkLength) : Int(chunkSize)
    }
}

/// Where the encrypted chunks live: files on disk in the server (CipherServer), memory in tests.
/// Several relay processes may share one: a stored chunk is never overwritten.
public protocol BlobChunkStorage: Sendable {
    /// Makes an empty place for a blob's chunks, or keeps the one it has: called when an
    /// upload starts, and nowhere else, so that a chunk for a blob deleted meanwhile finds no
    /// place rather than making one outside every quota and time to live.
    func startBlob(blobID: [UInt8]) async throws
    /// Stores chunk `index` of a blob cut as `layout` says, unless it is stored already (the
    /// stored one is kept: it was accepted with the same length, and the recipient's check
    /// catches any difference). Returns once the chunk is written, not necessarily durable;
    /// false, with nothing written, when the blob has no place (deleted, or never started).
    @discardableResult
    func storeChunk(_ bytes: Data, blobID: [UInt8], index: UInt64, layout: BlobLayout) async throws -> Bool
    /// Chunk `index`, or nil when it is not stored whole.
    func chunk(blobID: [UInt8], index: UInt64, layout: BlobLayout) async throws -> Data?
    /// How many chunks from 0 on are stored whole: where an upload resumes.
    func storedPrefix(blobID: [UInt8], layout: BlobLayout) async throws -> UInt64
    /// Returns once every chunk stored so far survives a crash of the machine, not only of
    /// the process: called before an upload is acknowledged complete.
    func makeDurable(blobID: [UInt8]) async throws
    func deleteChunks(blobID: [UInt8]) async throws
    /// The ids of the blobs that have a place: the sweep deletes those without metadata.
    func storedBlobIDs() async throws -> [[UInt8]]
}
