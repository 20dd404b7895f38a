import Foundation
import Glibc
import Testing

/// A tmpfs of a few megabytes mounted on a fresh directory, for tests of a relay whose disk is
/// full: `fill()` writes a filler file until the filesystem refuses (ENOSPC), `free()` removes
/// it. Mounting needs root; the tests that use it are skipped otherwise, with the reason.
/// `unmount()` (also run when released) detaches it lazily, so it goes even while a relay still
/// holds files in it, and frees its memory once the last one is closed.
final class SmallFilesystem {
    let directory: TemporaryDirectory
    private var mounted = false

    /// Enables a test only as root, where it can mount a tmpfs; says why it was skipped.
    static let rootTrait = ConditionTrait.enabled(
        if: geteuid() == 0, "mounting a tmpfs to fill it needs root: run the tests as root (the CI does)"
    )

    private let options: String

    init(megabytes: Int) throws {
        directory = try TemporaryDirectory(prefix: "tmpfs")
        options = "size=\(megabytes)m,mode=0700"
        guard mount("tmpfs", directory.url.path, "tmpfs", 0, options) == 0 else {
            throw HarnessError("cannot mount a tmpfs on \(directory.url.path): errno \(errno)")
        }
        mounted = true
    }

    deinit {
        unmount()
    }

    var url: URL {
        directory.url
    }

    private var filler: URL {
        directory.url.appending(path: "filler")
    }

    /// Writes the filler until the filesystem is full, leaving `spare` bytes free when given.
    func fill(leaving spare: Int = 0) throws {
        let descriptor = open(filler.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw HarnessError("cannot create the filler: errno \(errno)") }
        defer { close(descriptor) }
        let block = [UInt8](repeating: 0xA5, count: 64 * 1024)
        while true {
            let room = try freeBytes() - spare
            guard room > 0 else { return }
            let count = min(block.count, room)
            let written = block.withUnsafeBytes { write(descriptor, $0.baseAddress!, count) }
            if written < 0 {
                if errno == EINTR { continue }
                guard errno == ENOSPC else { throw HarnessError("cannot write the filler: errno \(errno)") }
                return
            }
        }
    }

    /// Mounts it again read-only, or writable again: as an operator's `mount -o remount,ro`.
    func setReadOnly(_ readOnly: Bool) throws {
        let flags = UInt(MS_REMOUNT) | (readOnly ? UInt(MS_RDONLY) : 0)
        guard mount("tmpfs", directory.url.path, "tmpfs", flags, options) == 0 else {
            throw HarnessError("cannot remount the tmpfs on \(directory.url.path): errno \(errno)")
        }
    }

    /// Removes the filler: the space comes back.
    func free() throws {
        try FileManager.default.removeItem(at: filler)
    }

    /// Bytes an unprivileged writer may still use.
    func freeBytes() throws -> Int {
        var status = statvfs()
        guard statvfs(directory.url.path, &status) == 0 else { throw HarnessError("statvfs failed: errno \(errno)") }
        return Int(status.f_bavail) * Int(status.f_frsize)
    }

    func unmount() {
        guard mounted else { return }
        mounted = false
        if umount2(directory.url.path, Int32(MNT_DETACH)) != 0 {
            Issue.record("cannot unmount the tmpfs on \(directory.url.path): errno \(errno)")
        }
    }
}
