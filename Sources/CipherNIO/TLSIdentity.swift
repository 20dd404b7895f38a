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

    private static func writePrivate(_ text: String, to path: String) throws {
        let created = FileManager.default.createFile(
            atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]
        )
        guard created else { throw TLSIdentityError.cannotWrite(path) }
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
