import Foundation
import Testing

/// A program from outside the package that some tests drive (a PostgreSQL server, HAProxy,
/// promtool, tmux, the sqlite3 shell). `scripts/test.sh` installs them on Debian and Ubuntu; where one is missing,
/// the tests that need it are reported as skipped, with the reason, rather than failed or
/// silently passed.
public struct RequiredTool: Sendable {
    public let name: String
    public let path: String
    public let package: String

    public static let postgres = RequiredTool(name: "PostgreSQL 15", path: "/usr/lib/postgresql/15/bin/initdb", package: "postgresql")
    public static let haproxy = RequiredTool(name: "HAProxy", path: "/usr/sbin/haproxy", package: "haproxy")
    public static let promtool = RequiredTool(name: "promtool", path: "/usr/bin/promtool", package: "prometheus")
    public static let tmux = RequiredTool(name: "tmux", path: "/usr/bin/tmux", package: "tmux")
    public static let sqlite3 = RequiredTool(name: "the sqlite3 shell", path: "/usr/bin/sqlite3", package: "sqlite3")

    public var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: path) }

    /// Enables a test or suite only where the tool is installed; says why it was skipped.
    public var trait: ConditionTrait {
        .enabled(if: isInstalled, "\(name) is not installed (\(path)); scripts/test.sh installs Debian's \(package) package")
    }
}
