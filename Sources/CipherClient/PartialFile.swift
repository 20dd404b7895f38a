#if canImport(Glibc)
import Glibc
#endif

/// The file a download is written to before it gets its name, and the step that gives it one.
///
/// The directory may hold entries the user did not make: a download into a shared directory, or
/// a name (chosen by the sender) that matches something already there. So the partial file is
/// created exclusively and never through a symbolic link, and one left by an earlier attempt is
/// resumed only when it is a regular file of this user with no other name (a hard link to a file
/// elsewhere would otherwise be overwritten through it). Naming the finished file never replaces
/// an entry: it fails if the name exists, atomically, so that nothing created after the first
/// check is lost either.
enum PartialFile {
    /// An open descriptor for the partial file at `path`, new or resumed.
    static func open(_ path: String) throws -> Int32 {
        let created = Glibc.open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        if created >= 0 { return created }
        guard errno == EEXIST else { throw FileTransferError.unwritable(path) }
        // O_NONBLOCK: opening a planted FIFO or device must not wait; a regular file ignores it.
        let descriptor = Glibc.open(path, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileTransferError.unsafePartial(path) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_nlink == 1, info.st_uid == geteuid() else {
            Glibc.close(descriptor)
            throw FileTransferError.unsafePartial(path)
        }
        return descriptor
    }

    /// Whether anything, a dangling symbolic link included, is at `path`.
    static func entryExists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 || errno != ENOENT
    }

    /// Renames `partial` to `path` unless `path` exists: `renameat2` with `RENAME_NOREPLACE`,
    /// or, on a file system without it, a hard link (which also fails on an existing name) and
    /// the partial name removed.
    static func place(_ partial: String, at path: String) throws {
        if let renameWithoutReplacing {
            if renameWithoutReplacing(AT_FDCWD, partial, AT_FDCWD, path, noReplace) == 0 { return }
            // Only a file system that does not know the flag falls back to a link.
            guard errno == EINVAL || errno == ENOSYS else { throw failure(errno, path) }
        }
        guard Glibc.link(partial, path) == 0 else { throw failure(errno, path) }
        Glibc.unlink(partial)
    }

    private static func failure(_ code: Int32, _ path: String) -> FileTransferError {
        code == EEXIST ? .outputExists(path) : .unwritable(path)
    }

    /// glibc's `renameat2` (2.28 and later), looked up at run time: the Glibc module does not
    /// declare it (a GNU extension).
    private static let renameWithoutReplacing: (@convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32)? = {
        guard let symbol = dlsym(nil, "renameat2") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32).self)
    }()

    /// `RENAME_NOREPLACE` in glibc's stdio.h.
    private static let noReplace: UInt32 = 1
}
