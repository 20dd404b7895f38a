import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A connection to a home's owner over its local API socket, as the CLI's commands use it when
/// another process owns the home: blocking, one request at a time, every wait bounded. Used by
/// one task at a time, which is what makes the unchecked `Sendable` sound.
public final class LocalAPIConnection: @unchecked Sendable {
    private let descriptor: Int32
    private var received: [UInt8] = []
    private var nextID = 0
    /// An answer or notification is one line; the owner's are far below this.
    static let maxLineBytes = 16 << 20

    /// Connects to the owner of `home`; nil when no process listens on its socket.
    public static func connect(home: String) -> LocalAPIConnection? {
        let path = (home as NSString).appendingPathComponent(LocalAPIServer.socketName)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
            raw[pathBytes.count] = 0
        }
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            close(descriptor)
            return nil
        }
        return LocalAPIConnection(descriptor: descriptor, home: home)
    }

    /// The home whose owner this connection reaches.
    public let home: String

    private init(descriptor: Int32, home: String) {
        self.descriptor = descriptor
        self.home = home
    }

    deinit {
        close(descriptor)
    }

    /// Calls `method` and returns its result; throws the owner's `LocalAPIError`, or one of
    /// kind `owner_unresponsive` when no answer came within `timeout` seconds. The blocking
    /// wait runs on a thread of its own (`onOwnThread`): an owner in this process answers it.
    public func call(_ method: String, _ params: [String: Any] = [:], timeout: Double) async throws -> Any {
        let request = UncheckedBox(params)
        return try await onOwnThread { [self] in try self.callBlocking(method, request.value, timeout: timeout) }
    }

    /// The next notification (`method` and `params`), or nil when none came by `deadline`;
    /// throws when the owner closed the connection.
    public func nextNotification(until deadline: Date) async throws -> (method: String, params: [String: Any])? {
        try await onOwnThread { [self] in try self.nextNotificationBlocking(until: deadline) }
    }

    private func callBlocking(_ method: String, _ params: [String: Any], timeout: Double) throws -> Any {
        nextID += 1
        let id = nextID
        try write(JSONLine.encode(["jsonrpc": "2.0", "id": id, "method": method, "params": params]) + "\n")
        let deadline = Date().addingTimeInterval(timeout)
        // Notifications may come before the answer on a subscribed connection: skip them.
        while true {
            guard let object = try readObject(until: deadline) else {
                throw LocalAPIError(kind: "owner_unresponsive", message: "the home's owner did not answer within \(timeout) s", exitCode: 1)
            }
            guard object["id"] as? Int == id else { continue }
            if let error = object["error"] as? [String: Any] {
                let data = error["data"] as? [String: Any]
                throw LocalAPIError(
                    code: error["code"] as? Int ?? -32000, kind: data?["kind"] as? String ?? "failure",
                    message: error["message"] as? String ?? "the owner refused", exitCode: Int32(data?["exit_code"] as? Int ?? 1)
                )
            }
            return object["result"] ?? NSNull()
        }
    }

    private func nextNotificationBlocking(until deadline: Date) throws -> (method: String, params: [String: Any])? {
        while let object = try readObject(until: deadline) {
            if object["id"] == nil, let method = object["method"] as? String {
                return (method, object["params"] as? [String: Any] ?? [:])
            }
        }
        return nil
    }

    private func write(_ text: String) throws {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else {
                throw LocalAPIError(kind: "owner_unresponsive", message: "the home's owner closed its socket", exitCode: 1)
            }
            bytes = bytes.dropFirst(written)
        }
    }

    /// One JSON object line; nil at the deadline. Throws when the owner closes the connection.
    private func readObject(until deadline: Date) throws -> [String: Any]? {
        while true {
            if let newline = received.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Data(received[..<newline])
                received.removeSubrange(...newline)
                if let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any] { return object }
                continue
            }
            guard received.count <= Self.maxLineBytes else {
                throw LocalAPIError(kind: "owner_unresponsive", message: "the home's owner sent a line too long", exitCode: 1)
            }
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { return nil }
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(min(remaining * 1000, 60_000).rounded(.up)))
            if ready < 0, errno == EINTR { continue }
            guard ready > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 65_536)
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count < 0, errno == EINTR { continue }
            guard count > 0 else {
                throw LocalAPIError(
                    kind: "owner_unresponsive",
                    message: "the home's owner closed the connection before answering (a message it accepted stays in its outbox and is sent when it runs again)",
                    exitCode: 1
                )
            }
            received.append(contentsOf: buffer[..<count])
        }
    }
}
