/// How far a file transfer has come, for a progress display. Reported after each chunk, from
/// the transfer's own task: a handler must be quick and thread-safe.
public struct TransferProgress: Sendable, Hashable {
    /// Plaintext bytes sent (handed to the relay) or received and checked so far.
    public let bytesDone: UInt64
    public let totalBytes: UInt64
    /// Bytes the other end already had when this attempt began: more than zero when an
    /// interrupted transfer resumed.
    public let resumedAt: UInt64

    public init(bytesDone: UInt64, totalBytes: UInt64, resumedAt: UInt64) {
        self.bytesDone = bytesDone
        self.totalBytes = totalBytes
        self.resumedAt = resumedAt
    }

    /// The bytes in the first `chunks` chunks of a file of `totalBytes`.
    static func bytes(inChunks chunks: UInt64, chunkSize: Int, totalBytes: UInt64) -> UInt64 {
        min(chunks.multipliedReportingOverflow(by: UInt64(chunkSize)).partialValue, totalBytes)
    }
}

/// Called with each step of a transfer.
public typealias TransferProgressHandler = @Sendable (TransferProgress) -> Void
