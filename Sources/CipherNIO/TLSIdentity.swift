import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509

/// The relay's TLS certificate and key: loaded from PEM files, or made once, self-signed, on
/// first start and kept in the data directory (PROTOCOL.md 12.1).
public struct TLSIdentity: Sendable {
    public let certificateChain: [NIOSSLCertificate]
    public let privateKey: NIOSSLPrivateKey
    /// SHA-256 of the leaf certificate's DER: what clients pin and what authentication binds.
    public let certificateHash: [UInt8]

    public init(certificatePEMFile: String, privateKeyPEMFile: String) throws {
        certificateChain = try NIOSSLCertificate.fromPEMFile(certificatePEMFile)
        privateKey = try NIOSSLPrivateKey(file: privateKeyPEMFile, format: .pem)
        guard let leaf = certificateChain.first else { throw TLSIdentityError.emptyChain }
        certificateHash = Array(SHA256.hash(data: try leaf.toDERBytes()))
    }

    /// Loads `relay-cert.pem` and `relay-key.pem` from `directory`, making them first if absent.
    public static func selfSigned(inDirectory directory: String, hostnames: [String] = ["localhost"]) throws -> TLSIdentity {
        let certificatePath = (directory as NSString).appendingPathComponent("relay-cert.pem")
        let keyPath = (directory as NSString).appendingPathComponent("relay-key.pem")
        if !FileManager.default.fileExists(atPath: certificatePath) || !FileManager.default.fileExists(atPath: keyPath) {
            let (certificatePEM, keyPEM) = try makeSelfSigned(hostnames: hostnames)
            // The key first, private to the owner, so a crash in between leaves no certificate
            // without its key.
            try writePrivate(keyPEM, to: keyPath)
            try Data(certificatePEM.utf8).write(to: URL(fileURLWithPath: certificatePath), options: .atomic)
        }
        return try TLSIdentity(certificatePEMFile: certificatePath, privateKeyPEMFile: keyPath)
    }

    static func makeSelfSigned(hostnames: [String]) throws -> (certificate: String, key: String) {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName { CommonName("cipherchat relay") }
        let now = Date()
        var names: [GeneralName] = hostnames.map { .dnsName($0) }
        names.append(.ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])))
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(10 * 365 * 86_400),
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                SubjectAlternativeNames(names)
            },
            issuerPrivateKey: .init(key)
        )
        return (try certificate.serializeAsPEM().pemString, key.pemRepresentation)
    }

    /// Writes `text` to `path`, readable by the owner only from the first byte: the file is
    /// created with mode 0600 (never with the default mode and narrowed after), under a
    /// temporary name, without following a link planted there, synced, then renamed into place,
    /// so a crash leaves either no key or a whole one.
    static func writePrivate(_ text: String, to path: String) throws {
        let temporary = path + ".partial-\(getpid())"
        unlink(temporary)
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw TLSIdentityError.cannotWrite(path) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        let synced = fsync(descriptor) == 0
        close(descriptor)
        guard written == bytes.count, synced, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw TLSIdentityError.cannotWrite(path)
        }
    }
}

public enum TLSIdentityError: Error, CustomStringConvertible, Sendable {
    case emptyChain
    case cannotWrite(String)

    public var description: String {
        switch self {
        case .emptyChain: "the certificate file holds no certificate"
        case .cannotWrite(let path): "cannot write \(path)"
        }
    }
}
