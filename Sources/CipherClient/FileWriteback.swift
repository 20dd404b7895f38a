#if canImport(Glibc)
import Glibc
#endif

/// Starts writing a range of a file to disk without waiting for it (Linux's `sync_file_range`
/// with `SYNC_FILE_RANGE_WRITE`), so that the `fsync` that ends a download finds little left to
/// write instead of the whole file. The Glibc module does not declare the function (a GNU
/// extension), so it is looked up at run time; where it is missing, the `fsync` does all the work.
/// The relay does the same for the chunks it stores (`FileSystemBlobChunks`).
enum FileWriteback {
    static func start(_ descriptor: Int32, offset: Int64, count: Int64) {
        _ = syncFileRange?(descriptor, offset, count, write)
    }

    private static let syncFileRange: (@convention(c) (Int32, Int64, Int64, UInt32) -> Int32)? = {
        guard let symbol = dlsym(nil, "sync_file_range") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32, Int64, Int64, UInt32) -> Int32).self)
    }()

    /// `SYNC_FILE_RANGE_WRITE` in glibc's fcntl.h.
    private static let write: UInt32 = 2
}
