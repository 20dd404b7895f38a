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
    /// Several relays may share one directory; instances on one PostgreSQL database must, since
    /// a file uploaded through one is downloaded through another.
    public var blobDirectory: String?
    /// The monitoring listener (`/metrics`, `/healthz`, `/readyz`), plain HTTP: keep it on a
    /// private address. Port 0 picks a free port (tests); the second ready line says which.
    public var metricsHost = "127.0.0.1"
    public var metricsPort = 9090
    /// When the relay stops, how long connected clients get to hang up after `GoingAway`
    /// before their connections are closed. With the store's close it keeps a stop well under
    /// the 10 seconds a supervisor usually waits before killing.
    public var shutdownGraceSeconds: UInt64 = 5
    /// The balancers whose connections begin with a PROXY protocol version 2 header naming the
    /// client (`--proxy-protocol --proxy-from CIDR`). A connection from these addresses must
    /// send one; a connection from any other address is a client's own and is never read as
    /// one. Empty: no header is read from anyone.
    public var proxyProtocolSources: [AddressRange] = []

    public init(dataDirectory: String) {
        self.dataDirectory = dataDirectory
    }
}
