#if canImport(Glibc)
import Glibc
#endif

/// glibc's malloc thresholds, set explicitly so that bulk figures do not depend on what ran
/// before. glibc starts at 128 KiB for both and raises them by itself the first time a large
/// mapped buffer is freed, so a 64 KiB or 1 MiB figure would otherwise change with the order
/// of measurements. With the defaults (and no adaptation), each 64 KiB output is given back to
/// the kernel when freed (madvise in a thread's arena) and faulted in again by the next call,
/// and every 1 MiB buffer is mapped and unmapped; with raised thresholds the heap keeps them.
/// Setting either threshold turns glibc's adaptation off for the rest of the process.
enum MallocThresholds: String, Codable, Sendable, CaseIterable {
    /// 128 KiB mmap and trim thresholds: a fresh process's allocator.
    case glibcDefault = "glibc-default"
    /// 32 MiB mmap threshold (glibc's maximum) and 64 MiB trim threshold: large buffers reused.
    case raised

    /// Applies the thresholds; false where glibc's mallopt is not available (then the
    /// platform's allocator decides, and both settings measure the same thing).
    @discardableResult
    func apply() -> Bool {
        #if canImport(Glibc)
        // malloc.h is not part of the Glibc module; its values are fixed by glibc's ABI.
        let trimThreshold: Int32 = -1
        let mmapThreshold: Int32 = -3
        guard let symbol = dlsym(nil, "mallopt") else { return false }
        let mallopt = unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
        let (mmap, trim): (Int32, Int32) = switch self {
        case .glibcDefault: (128 << 10, 128 << 10)
        case .raised: (32 << 20, 64 << 20)
        }
        return mallopt(mmapThreshold, mmap) == 1 && mallopt(trimThreshold, trim) == 1
        #else
        return false
        #endif
    }

    var summary: String {
        switch self {
        case .glibcDefault: "glibc default thresholds (128 KiB)"
        case .raised: "raised thresholds (mmap 32 MiB, trim 64 MiB)"
        }
    }
}
