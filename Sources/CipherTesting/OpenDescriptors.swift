import Foundation

/// This process's open file descriptors (Linux's /proc), for posix_spawn to close in a child:
/// sockets here are not close-on-exec, and glibc's `posix_spawn_file_actions_addclosefrom_np`
/// is not imported into Swift. A long-lived child (a database server, tmux) that inherited a
/// relay's listening socket would keep its port bound after the relay stops.
enum OpenDescriptors {
    static func list() -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).compactMap { Int32($0) }
    }
}
