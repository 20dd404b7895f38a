import CipherCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A file someone sent this user: what `cipherchat file list` shows, and what `file get` needs
/// to fetch and open it. Kept sealed in the store (it holds the file key).
public struct ReceivedFile: Codable, Sendable, Hashable {
    /// The blob id in hex: the id the user names the file by.
    public let id: String
    public let from: String
    /// `#name` for a file sent to a room.
    public let room: String?
    public let name: String
    public let size: UInt64
    /// SHA-256 of the plaintext, hex, from the manifest.
    public let sha256: String
    public let receivedAtMilliseconds: UInt64
    /// Where `file get` last wrote it, once whole and checked.
    public var savedTo: String?
    /// The `FileOffer` encoding: holds the file key.
    let offer: SecretBytes

    init(offer: FileOffer, from sender: String, receivedAtMilliseconds: UInt64) {
        id = Hex.encode(offer.blobID)
        from = sender
        room = offer.room
        name = offer.manifest.name
        size = offer.manifest.size
        sha256 = Hex.encode(offer.manifest.sha256)
        self.receivedAtMilliseconds = receivedAtMilliseconds
        self.offer = SecretBytes(offer.serialized)
    }

    func fileOffer() throws -> FileOffer {
        try offer.withBytes { try FileOffer(serialized: $0) }
    }
}

/// An upload not yet finished, kept (sealed) from before its first chunk until its offers are
/// in the outbox, so that sending the same file again resumes it under the same key.
struct PendingUpload: Codable, Sendable, Hashable {
    let blobID: String
    /// The file key.
    let key: SecretBytes
    let path: String
    let size: UInt64
    /// The file's modification time and inode when the upload began: resuming a changed file
    /// under the same key would reuse nonces, so a change starts a new upload.
    let modified: Double
    let inode: UInt64
    let recipients: [String]
    let room: String?
    let chunkSize: Int
}

/// How far an upload has let chunks out, recorded durably before they leave (SentChunkDigest):
/// the first `chunks` chunks, and the digest of their tags.
struct UploadProgress: Codable, Sendable, Hashable {
    let chunks: UInt64
    let digest: String
}

/// A file's identity on disk, to tell whether it changed since an upload began.
struct FileSnapshot: Equatable {
    let size: UInt64
    let modified: Double
    let inode: UInt64

    /// The file open at `descriptor`, as it is now: the upload reads this very file, so its
    /// identity is taken from the descriptor, not from a path that may since name another.
    init(descriptor: Int32, path: String) throws {
        var status = stat()
        guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { throw FileTransferError.unreadable(path) }
        size = UInt64(status.st_size)
        modified = Double(status.st_mtim.tv_sec) + Double(status.st_mtim.tv_nsec) / 1e9
        inode = UInt64(status.st_ino)
    }

    init(path: String) throws {
        // O_NONBLOCK: a FIFO or device named here must not hold the open; fstat refuses it.
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileTransferError.unreadable(path) }
        defer { close(descriptor) }
        try self.init(descriptor: descriptor, path: path)
    }

    func matches(_ upload: PendingUpload) -> Bool {
        size == upload.size && modified == upload.modified && inode == upload.inode
    }
}

/// Why a file could not be sent or fetched, in words for the person at the terminal.
public enum FileTransferError: Error, Hashable, CustomStringConvertible, Sendable {
    case unreadable(String)
    case changedDuringUpload(String)
    case unknownFile(String)
    case ambiguousFile(String)
    case outputExists(String)
    /// Saved before, to this path: the relay deleted its copy then.
    case alreadySaved(String)
    case unwritable(String)
    /// Something other than a regular file of this user's, with one name, is where a
    /// download's partial file goes: it is neither written through nor replaced.
    case unsafePartial(String)
    /// The file did not authenticate or its hash did not match: nothing was kept.
    case refused(name: String)
    case relay(RelayError)
    /// The relay cannot do the transfer's work now (`CODE_STORE_UNAVAILABLE`: its disk is full,
    /// or its database is down): what was transferred is kept, and the same command run again
    /// resumes there.
    case relayUnavailable(RelayError)
    /// A file sent to a room with no other member.
    case noRecipients(String)

    public var description: String {
        switch self {
        case .unreadable(let path): "cannot read \(path): not a readable regular file"
        case .changedDuringUpload(let path): "\(path) changed while it was being sent: send it again"
        case .unknownFile(let id): "no received file with id \(id) (see 'cipherchat file list')"
        case .ambiguousFile(let id): "more than one received file starts with \(id): give more of the id"
        case .outputExists(let path): "\(path) exists: choose another --out"
        case .unwritable(let path): "cannot write \(path)"
        case .alreadySaved(let path): "already saved to \(path); the relay deleted its copy once it was saved"
        case .unsafePartial(let path):
            "\(path) is not a regular file of yours (a link, or a file with another name too): it was left alone; remove it to download"
        case .refused(let name):
            "the file \(name) failed its integrity check (altered or truncated on the way) and was refused; nothing was kept"
        case .relay(let error): "the relay refused the transfer: \(error)"
        case .relayUnavailable(let error):
            "the relay cannot take the transfer now (store_unavailable: \(error.message)); run the same command again later: it resumes where it stopped"
        case .noRecipients(let room): "\(room) has no other member to send the file to"
        }
    }
}
