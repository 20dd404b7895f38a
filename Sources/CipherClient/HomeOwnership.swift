import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The exclusive right to read and write one home's store: an `flock` on `owner.lock` in the
/// home, taken before `client.db` is opened and held until the store is released.
///
/// Two processes encrypting from one store would pick the same chain position and so the same
/// AES-GCM key and nonce for two plaintexts (SECURITY.md 6). The lock makes the process that
/// holds it the store's only writer; every other command talks to that owner over its local
/// socket (docs/API.md) or waits for it to finish. `flock` locks belong to the open file
/// description, so a second `HomeOwnership` in the same process is refused too, and the kernel
/// releases the lock when the process dies, however it dies.
public final class HomeOwnership: Sendable {
    public static let fileName = "owner.lock"

    /// The lock file's descriptor while the lock is held; -1 once released.
    private let descriptor: Mutex<Int32>
    public let home: String

    /// Who holds a home, as its lock file says: written by the holder once it has the lock.
    public struct Holder: Sendable, Hashable, CustomStringConvertible {
        public let pid: Int32
        public let command: String

        public var description: String { "process \(pid) (\(command))" }
    }

    /// Takes the lock on `home`, waiting up to `wait` seconds while another process holds it.
    /// `command` is recorded for the message another process shows when it finds the home owned.
    /// Creates the home (0700) when it does not exist, and tightens an existing one to 0700.
    public static func acquire(home: String, command: String, wait: Double = 0) throws -> HomeOwnership {
        try prepareHome(home)
        let path = (home as NSString).appendingPathComponent(fileName)
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else { throw ClientError.homeUnusable(home, reason: String(cString: strerror(errno))) }
        let deadline = Date().addingTimeInterval(max(0, wait))
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let failure = errno
            guard failure == EWOULDBLOCK || failure == EINTR else {
                close(descriptor)
                throw ClientError.homeUnusable(home, reason: String(cString: strerror(failure)))
            }
            guard Date() < deadline else {
                let holder = readHolder(descriptor)
                close(descriptor)
                throw ClientError.homeOwned(home, holder: holder?.description ?? "another process")
            }
            usleep(50_000)
        }
        let record = "\(getpid())\n\(command)\n"
        _ = ftruncate(descriptor, 0)
        _ = record.withCString { pwrite(descriptor, $0, strlen($0), 0) }
        return HomeOwnership(descriptor: descriptor, home: home)
    }

    /// Who holds `home` now, or nil when nobody does (or the home has no lock file).
    public static func currentHolder(home: String) -> Holder? {
        let path = (home as NSString).appendingPathComponent(fileName)
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        // A shared lock succeeds only when nobody holds the exclusive one.
        if flock(descriptor, LOCK_SH | LOCK_NB) == 0 {
            flock(descriptor, LOCK_UN)
            return nil
        }
        return readHolder(descriptor)
    }

    private init(descriptor: Int32, home: String) {
        self.descriptor = Mutex(descriptor)
        self.home = home
    }

    /// Lets go of the home. The store must be closed first: nothing may write it afterwards.
    public func release() {
        descriptor.withLock { descriptor in
            guard descriptor >= 0 else { return }
            close(descriptor)
            descriptor = -1
        }
    }

    deinit {
        release()
    }

    private static func prepareHome(_ home: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: home, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw ClientError.homeUnusable(home, reason: "not a directory") }
            // Another user must not list or open anything in it, whatever its mode was.
            _ = chmod(home, 0o700)
        } else {
            do {
                try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw ClientError.homeUnusable(home, reason: "cannot create it")
            }
        }
    }

    /// The holder's record: at most 256 bytes, a pid line and a command line.
    private static func readHolder(_ descriptor: Int32) -> Holder? {
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = pread(descriptor, &buffer, buffer.count, 0)
        guard count > 0 else { return nil }
        let lines = String(decoding: buffer[..<count], as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        guard let first = lines.first, let pid = Int32(first), pid > 0 else { return nil }
        let command = lines.count > 1 ? String(lines[1].unicodeScalars.filter { $0.value >= 0x20 && $0.value < 0x7F }.prefix(64).map(Character.init)) : "?"
        return Holder(pid: pid, command: command.isEmpty ? "?" : command)
    }
}
