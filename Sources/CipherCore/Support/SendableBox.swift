/// Carries a swift-crypto RSA encryption key across concurrency domains. swift-crypto marks its
/// RSA signing keys Sendable but not its encryption keys, though both wrap the same immutable
/// BoringSSL key object that is only ever read after construction; this box records that reason
/// in one place instead of spreading `@unchecked` over every type that holds such a key.
struct SendableBox<Value>: @unchecked Sendable {
    let value: Value

    init(_ value: Value) {
        self.value = value
    }
}
