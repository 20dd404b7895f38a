import CipherCore
import CipherRelay
import Foundation
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Encrypted chunks on disk, two files per blob (PROTOCOL.md 12.8): `DIRECTORY/<blob id
/// hex>/chunks` holds chunk `i` at offset `i * chunk_size`, and `DIRECTORY/<blob id hex>/stored`
/// holds one byte per chunk, set to 1 once that chunk is written whole and synced. A chunk is written
/// before its mark, under an exclusive `flock` on the chunks file, and only when its mark is
/// not set: several relay processes may share the directory, and none overwrites a stored chunk
/// or reads one that is not whole. A writer killed in the middle of a chunk leaves its mark
/// unset, so the chunk is written again on resume.
///
/// A chunk's mark is written only once its bytes are on disk, so that `storedPrefix` never
/// counts a chunk that a crash of the machine could lose: writing a chunk starts its writeback
/// at once, and every `durableBatch` chunks of a blob (and in `makeDurable`) the chunks file is
/// synced and the marks of the chunks written meanwhile are set. Until then those chunks are
/// written but not stored: a relay that stops before the sync leaves them unmarked, and the
/// upload resumes before them and sends them again.
///
/// One file per blob rather than one per chunk: creating a file for every chunk (a temporary
/// name, a link, an unlink) made the filesystem's inode allocator the upload's bottleneck.
/// Disk work runs on NIO's thread pool, off the event loops.
public final class FileSystemBlobChunks: BlobChunkStorage {
    public let directory: String
    private let threadPool: NIOThreadPool
    /// Chunks this many written per blob share one sync of the chunks file before their marks.
    let durableBatch: Int
    /// Per blob folder, the chunks written by this process and not yet marked.
    private let unmarked = Mutex<[String: [UInt64]]>([:])

    static let chunksFileName = "chunks"
    static let storedFileName = "stored"
    /// The mark of a chunk written whole.
    static let storedMark: UInt8 = 1
    /// How many marks `storedPrefix` reads at once: a blob of 1 KiB chunks has millions.
    static let markReadSize = 64 * 1024

    public init(directory: String, threadPool: NIOThreadPool = .singleton, durableBatch: Int = 64) throws {
        precondition(durableBatch >= 1)
        self.directory = directory
        self.threadPool = threadPool
        self.durableBatch = durableBatch
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        // Encrypted, but their sizes and times are metadata: another user may not list them.
        guard chmod(directory, 0o700) == 0 else { throw BlobDiskError(operation: "chmod", code: errno) }
    }

    public func startBlob(blobID: [UInt8]) async throws {
        let paths = BlobPaths(directory: directory, blobID: blobID)
        try await onDisk {
            if mkdir(paths.folder, 0o700) != 0, errno != EEXIST { throw BlobDiskError(operation: "mkdir", code: errno) }
            try BlobFiles(paths, creating: true)!.close()
        }
    }

    @discardableResult
    public func storeChunk(_ bytes: Data, blobID: [UInt8], index: UInt64, layout: BlobLayout) async throws -> Bool {
        let paths = BlobPaths(directory: directory, blobID: blobID)
        let batch = durableBatch
        return try await onDisk {
            // Never created here: a blob deleted since its upload started (by its last
            // recipient, its time to live, another relay) has no folder, and gets none back.
            guard let files = try BlobFiles(paths, creating: false) else { return false }
            defer { files.close() }
            let written: Bool = try files.locked {
                guard try !files.isStored(index) else { return false }
                let offset = index * UInt64(layout.chunkSize)
                try bytes.withUnsafeBytes { try Self.writeFully(files.chunks, $0, at: offset) }
                Self.startWriteback(files.chunks, offset: offset, count: bytes.count)
                return true
            }
            guard written else { return true }
            let due: [UInt64]? = self.unmarked.withLock { unmarked in
                unmarked[paths.folder, default: []].append(index)
                guard unmarked[paths.folder]!.count >= batch else { return nil }
                return unmarked.removeValue(forKey: paths.folder)
            }
            if let due { try Self.markDurable(due, in: files) }
            return true
        }
    }

    public func storedBlobIDs() async throws -> [[UInt8]] {
        let directory = self.directory
        return try await onDisk {
            try Self.entryNames(directory).compactMap { name in
                // Only names this storage makes: anything else in the directory is not ours.
                guard name.count == 2 * BlobPaths.idSize, let id = Hex.decode(name) else { return nil }
                return id
            }
        }
    }

    public func chunk(blobID: [UInt8], index: UInt64, layout: BlobLayout) async throws -> Data? {
        let paths = BlobPaths(directory: directory, blobID: blobID)
        return try await onDisk {
            guard let files = try BlobFiles(paths, creating: false) else { return nil }
            defer { files.close() }
            guard try files.isStored(index) else { return nil }
            return try Self.read(files.chunks, length: layout.chunkLength(index), at: index * UInt64(layout.chunkSize))
        }
    }

    public func storedPrefix(blobID: [UInt8], layout: BlobLayout) async throws -> UInt64 {
        let paths = BlobPaths(directory: directory, blobID: blobID)
        return try await onDisk {
            let stored = open(paths.stored, O_RDONLY | O_CLOEXEC)
            guard stored >= 0 else {
                if errno == ENOENT { return 0 }
                throw BlobDiskError(operation: "open", code: errno)
            }
            defer { close(stored) }
            var prefix: UInt64 = 0
            while prefix < layout.chunkCount {
                let wanted = Int(min(UInt64(Self.markReadSize), layout.chunkCount - prefix))
                guard let marks = try Self.read(stored, length: wanted, at: prefix, allowShort: true), !marks.isEmpty else { break }
                guard let gap = marks.firstIndex(where: { $0 != Self.storedMark }) else {
                    prefix += UInt64(marks.count)
                    if marks.count < wanted { break }
                    continue
                }
                prefix += UInt64(gap - marks.startIndex)
                break
            }
            return prefix
        }
    }

    public func makeDurable(blobID: [UInt8]) async throws {
        let paths = BlobPaths(directory: directory, blobID: blobID)
        let parent = directory
        try await onDisk {
            let due = self.unmarked.withLock { $0.removeValue(forKey: paths.folder) } ?? []
            guard let files = try BlobFiles(paths, creating: false) else { return }
            defer { files.close() }
            try Self.markDurable(due, in: files)
            guard fsync(files.stored) == 0 else { throw BlobDiskError(operation: "fsync", code: errno) }
            // The blob's folder and its entry in the blob directory.
            for path in [paths.folder, parent] {
                let descriptor = open(path, O_RDONLY | O_CLOEXEC)
                guard descriptor >= 0 else { throw BlobDiskError(operation: "open", code: errno) }
                defer { close(descriptor) }
                guard fsync(descriptor) == 0 else { throw BlobDiskError(operation: "fsync", code: errno) }
            }
        }
    }

    public func deleteChunks(blobID: [UInt8]) async throws {
        let folder = BlobPaths(directory: directory, blobID: blobID).folder
        unmarked.withLock { _ = $0.removeValue(forKey: folder) }
        try await onDisk { try Self.removeFolder(folder) }
    }

    /// Runs `body` on the thread pool. A write refused for want of space (ENOSPC, EDQUOT) is the
    /// store's disk being full, which passes once the operator frees some: the uploader is told
    /// to try again (`CODE_STORE_UNAVAILABLE`) and resumes, rather than refused as by a fault.
    /// So is a write the filesystem refuses outright (EROFS; EACCES, EPERM after the operator
    /// changed modes or mounted the directory read-only): it passes once they put it right.
    private func onDisk<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        do {
            return try await threadPool.runIfActive(body)
        } catch let error as BlobDiskError where error.isOutOfSpace {
            throw StoreUnavailableError.diskFull(error.description)
        } catch let error as BlobDiskError where error.isNotWritable {
            throw StoreUnavailableError.notWritable(error.description)
        }
    }

    /// Removes a blob's folder and its files. Another relay sharing the directory may be
    /// removing the same folder at the same time (two recipients on two instances finishing
    /// the file at once): what it removed first is not an error.
    private static func removeFolder(_ folder: String) throws {
        let names = try entryNames(folder)
        for name in names where unlink("\(folder)/\(name)") != 0 && errno != ENOENT {
            throw BlobDiskError(operation: "unlink", code: errno)
        }
        if rmdir(folder) != 0, errno != ENOENT { throw BlobDiskError(operation: "rmdir", code: errno) }
    }

    /// The names in a directory, `.` and `..` left out; none when it does not exist.
    private static func entryNames(_ path: String) throws -> [String] {
        guard let stream = opendir(path) else {
            if errno == ENOENT { return [] }
            throw BlobDiskError(operation: "opendir", code: errno)
        }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != ".", name != ".." { names.append(name) }
        }
        return names
    }

    /// Syncs the chunks file, then marks `indexes` stored (PROTOCOL.md 12.8).
    private static func markDurable(_ indexes: [UInt64], in files: BlobFiles) throws {
        guard fdatasync(files.chunks) == 0 else { throw BlobDiskError(operation: "fdatasync", code: errno) }
        try files.locked {
            for index in indexes { try withUnsafeBytes(of: storedMark) { try writeFully(files.stored, $0, at: index) } }
        }
    }

    /// Starts writing a chunk to disk without waiting, so that the next sync finds little left.
    private static func startWriteback(_ descriptor: Int32, offset: UInt64, count: Int) {
        _ = syncFileRange?(descriptor, Int64(offset), Int64(count), syncFileRangeWrite)
    }

    /// Linux's `sync_file_range`, which the Glibc module does not declare (it is a GNU
    /// extension); nil elsewhere, where the sync before each mark does all the work.
    private static let syncFileRange: (@convention(c) (Int32, Int64, Int64, UInt32) -> Int32)? = {
        guard let symbol = dlsym(nil, "sync_file_range") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32, Int64, Int64, UInt32) -> Int32).self)
    }()
    /// `SYNC_FILE_RANGE_WRITE` in glibc's fcntl.h: start writeback of the range's dirty pages.
    private static let syncFileRangeWrite: UInt32 = 2

    static func writeFully(_ descriptor: Int32, _ buffer: UnsafeRawBufferPointer, at offset: UInt64) throws {
        var written = 0
        while written < buffer.count {
            let count = pwrite(descriptor, buffer.baseAddress! + written, buffer.count - written, off_t(offset) + off_t(written))
            if count < 0 {
                if errno == EINTR { continue }
                throw BlobDiskError(operation: "write", code: errno)
            }
            written += count
        }
    }

    /// `length` bytes at `offset`; nil if the file ends first, unless `allowShort`, which
    /// returns what there is.
    static func read(_ descriptor: Int32, length: Int, at offset: UInt64, allowShort: Bool = false) throws -> Data? {
        var data = Data(count: length)
        let got = try data.withUnsafeMutableBytes { buffer in
            var filled = 0
            while filled < length {
                let count = pread(descriptor, buffer.baseAddress! + filled, length - filled, off_t(offset) + off_t(filled))
                if count < 0 {
                    if errno == EINTR { continue }
                    throw BlobDiskError(operation: "read", code: errno)
                }
                if count == 0 { break }
                filled += count
            }
            return filled
        }
        guard got == length else {
            guard allowShort else { return nil }
            return data.prefix(got)
        }
        return data
    }
}

/// Where one blob's files are.
struct BlobPaths: Sendable {
    let folder: String
    let chunks: String
    let stored: String

    /// Bytes in a blob id (`FileOffer.blobIDSize`); a folder's name is their hex.
    static let idSize = FileOffer.blobIDSize

    init(directory: String, blobID: [UInt8]) {
        folder = "\(directory)/\(Hex.encode(blobID))"
        chunks = "\(folder)/\(FileSystemBlobChunks.chunksFileName)"
        stored = "\(folder)/\(FileSystemBlobChunks.storedFileName)"
    }
}

/// One blob's two files, open.
private struct BlobFiles {
    let chunks: Int32
    let stored: Int32

    /// Opens the files; nil when the blob has none and `creating` is false.
    init?(_ paths: BlobPaths, creating: Bool) throws {
        let flags = O_RDWR | O_CLOEXEC | (creating ? O_CREAT : 0)
        // The folder is made by `startBlob` alone.
        let chunks = open(paths.chunks, flags, 0o600)
        guard chunks >= 0 else {
            if errno == ENOENT, !creating { return nil }
            throw BlobDiskError(operation: "open", code: errno)
        }
        let stored = open(paths.stored, flags, 0o600)
        guard stored >= 0 else {
            let code = errno
            Glibc.close(chunks)
            if code == ENOENT, !creating { return nil }
            throw BlobDiskError(operation: "open", code: code)
        }
        self.chunks = chunks
        self.stored = stored
    }

    /// Runs `body` holding the blob's exclusive lock, shared with other processes.
    func locked<Result>(_ body: () throws -> Result) throws -> Result {
        while flock(chunks, LOCK_EX) != 0 {
            guard errno == EINTR else { throw BlobDiskError(operation: "flock", code: errno) }
        }
        defer { flock(chunks, LOCK_UN) }
        return try body()
    }

    func isStored(_ index: UInt64) throws -> Bool {
        var mark: UInt8 = 0
        while true {
            let count = pread(stored, &mark, 1, off_t(index))
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { throw BlobDiskError(operation: "read", code: errno) }
            return count == 1 && mark == FileSystemBlobChunks.storedMark
        }
    }

    func close() {
        Glibc.close(chunks)
        Glibc.close(stored)
    }
}

/// A blob chunk could not be written or read: the operation and errno, never a path or content.
struct BlobDiskError: Error, CustomStringConvertible {
    let operation: String
    let code: Int32

    var description: String { "blob storage \(operation) failed: errno \(code)" }

    /// The filesystem, or the relay's user's quota on it, has no room left.
    var isOutOfSpace: Bool { code == ENOSPC || code == EDQUOT }

    /// The directory or filesystem does not let the relay write: read-only, or its modes.
    var isNotWritable: Bool { code == EROFS || code == EACCES || code == EPERM }
}
