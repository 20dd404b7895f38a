import Synchronization

/// Who is online: the authenticated connections of each user, so that an envelope can be
/// pushed the moment it is queued. A user may be connected more than once.
public final class ConnectionRegistry: Sendable {
    private let connections = Mutex<[String: [ObjectIdentifier: RelayConnection]]>([:])

    public init() {}

    func add(_ connection: RelayConnection, for username: String) {
        connections.withLock { $0[username, default: [:]][ObjectIdentifier(connection)] = connection }
    }

    func remove(_ connection: RelayConnection, for username: String) {
        connections.withLock { table in
            table[username]?[ObjectIdentifier(connection)] = nil
            if table[username]?.isEmpty == true { table[username] = nil }
        }
    }

    func connections(of username: String) -> [RelayConnection] {
        connections.withLock { $0[username].map { Array($0.values) } ?? [] }
    }

    /// Every authenticated connection, for a shutdown notice.
    public func all() -> [RelayConnection] {
        connections.withLock { $0.values.flatMap(\.values) }
    }

    /// The users with at least one connection here.
    public var onlineUsernames: [String] {
        connections.withLock { Array($0.keys) }
    }

    public var onlineUserCount: Int {
        connections.withLock { $0.count }
    }
}

/// Counts open connections per address and in total, refusing those over the limits.
public final class ConnectionLimiter: Sendable {
    private let counts = Mutex<(total: Int, byAddress: [String: Int])>((0, [:]))
    private let maxTotal: Int
    private let maxPerAddress: Int

    public init(configuration: RelayConfiguration) {
        maxTotal = configuration.maxConnections
        maxPerAddress = configuration.maxConnectionsPerAddress
    }

    public enum Admission: Sendable, Equatable {
        case admitted
        case refused(limit: String)
    }

    /// Admits a new connection from `address`, or names the limit it would break.
    public func admit(address: String) -> Admission {
        counts.withLock { counts in
            guard counts.total < maxTotal else { return .refused(limit: "connections_total") }
            guard counts.byAddress[address, default: 0] < maxPerAddress else { return .refused(limit: "connections_per_address") }
            counts.total += 1
            counts.byAddress[address, default: 0] += 1
            return .admitted
        }
    }

    public func release(address: String) {
        counts.withLock { counts in
            counts.total -= 1
            counts.byAddress[address, default: 1] -= 1
            if counts.byAddress[address] == 0 { counts.byAddress[address] = nil }
        }
    }

    public var openConnections: Int { counts.withLock { $0.total } }
}
