import CipherCore
import CipherRelay
import Foundation
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// Encrypted chunks as files: `DIRECTORY/<blob id hex>/<index>.chunk` (PROTOCOL.md 12.8).
/// Several relay processes may share the directory: a chunk is written to a temporary file
/// of its own and then linked to its final name, which fails if that name exists, so a stored
/// chunk is never overwritten or seen half-written. Disk work runs on NIO's thread pool, off
/// Swift's cooperative threads.
public final class FileSystemBlobChunks: BlobChunkStorage {
    public let directory: String
    private let threadPool: NIOThreadPool

    public init(directory: String, threadPool: NIOThreadPool = .singleton) throws {
        self.directory = directory
        self.threadPool = threadPool
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    public func storeChunk(_ bytes: [UInt8], blobID: [UInt8], index: UInt64) async throws {
        let folder = blobDirectory(blobID)
        let final = chunkPath(blobID, index)
        try await threadPool.runIfActive {
            if mkdir(folder, 0o700) != 0, errno != EEXIST { throw BlobDiskError(operation: "mkdir", code: errno) }
            let temporary = "\(folder)/.tmp-\(Hex.encode(SystemRandomSource().bytes(8)))"
            try Self.write(bytes, to: temporary)
            defer { unlink(temporary) }
            if link(temporary, final) != 0, errno != EEXIST { throw BlobDiskError(operation: "link", code: errno) }
        }
    }

    public func chunk(blobID: [UInt8], index: UInt64, length: Int) async throws -> [UInt8]? {
        let path = chunkPath(blobID, index)
        return try await threadPool.runIfActive { try Self.read(path, length: length) }
    }

    public func storedPrefix(blobID: [UInt8], layout: BlobLayout) async throws -> UInt64 {
        let paths = (self, blobID)
        return try await threadPool.runIfActive {
            var index: UInt64 = 0
            var info = stat()
            while index < layout.chunkCount, stat(paths.0.chunkPath(paths.1, index), &info) == 0,
                  Int(info.st_size) == layout.chunkLength(index) {
                index += 1
            }
            return index
        }
    }

    public func deleteChunks(blobID: [UInt8]) async throws {
        let folder = blobDirectory(blobID)
        try await threadPool.runIfActive { try Self.removeFolder(folder) }
    }

    private func blobDirectory(_ blobID: [UInt8]) -> String { "\(directory)/\(Hex.encode(blobID))" }

    func chunkPath(_ blobID: [UInt8], _ index: UInt64) -> String { "\(blobDirectory(blobID))/\(index).chunk" }

    /// Removes a blob's folder and its files. Another relay sharing the directory may be
    /// removing the same folder at the same time (two recipients on two instances finishing
    /// the file at once): what it removed first is not an error.
    private static func removeFolder(_ folder: String) throws {
        guard let stream = opendir(folder) else {
            if errno == ENOENT { return }
            throw BlobDiskError(operation: "opendir", code: errno)
        }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != ".", name != ".." { names.append(name) }
        }
        closedir(stream)
        for name in names where unlink("\(folder)/\(name)") != 0 && errno != ENOENT {
            throw BlobDiskError(operation: "unlink", code: errno)
        }
        if rmdir(folder) != 0, errno != ENOENT { throw BlobDiskError(operation: "rmdir", code: errno) }
    }

    private static func write(_ bytes: [UInt8], to path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw BlobDiskError(operation: "open", code: errno) }
        defer { close(descriptor) }
        try bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw BlobDiskError(operation: "write", code: errno)
                }
                offset += written
            }
        }
    }

    private static func read(_ path: String, length: Int) throws -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { return nil }
            throw BlobDiskError(operation: "open", code: errno)
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, Int(info.st_size) == length else { return nil }
        var failure: Int32 = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: length) { buffer, count in
            var offset = 0
            while offset < length {
                let got = Glibc.read(descriptor, buffer.baseAddress! + offset, length - offset)
                if got < 0, errno == EINTR { continue }
                if got <= 0 {
                    failure = got < 0 ? errno : EIO
                    break
                }
                offset += got
            }
            count = offset
        }
        guard failure == 0 else { throw BlobDiskError(operation: "read", code: failure) }
        return bytes.count == length ? bytes : nil
    }
}

/// A blob chunk could not be written or read: the operation and errno, never a path or content.
struct BlobDiskError: Error, CustomStringConvertible {
    let operation: String
    let code: Int32

    var description: String { "blob storage \(operation) failed: errno \(code)" }
}
