import CipherRelay

/// How `cipherchat server` runs.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    /// 0 picks a free port (tests and the demo); the ready line says which.
    public var port = 7443
    public var dataDirectory: String
    /// Both or neither: without them a self-signed certificate is made in `dataDirectory`.
    public var tlsCertificateFile: String?
    public var tlsKeyFile: String?
    public var relay = RelayConfiguration()
    /// How often queues are swept for envelopes past their time to live.
    public var expirySweepSeconds: UInt64 = 3600
    /// Where uploaded files' encrypted chunks are kept; `blobs` in `dataDirectory` when nil.
    /// Several relays may share one directory.
    public var blobDirectory: String?

    public init(dataDirectory: String) {
        self.dataDirectory = dataDirectory
    }
}
