import Crypto

enum SymmetricKeyFixture {
    static func make() -> SymmetricKey { SymmetricKey(data: [UInt8](repeating: 7, count: 32)) }
}
