#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target, Fuzz/Corpus/<target>/, from the protocol vectors
(docs/PROTOCOL.md section 11, Tests/CipherCoreTests/Vectors/protocol-v1.json) and the test
identities' fixtures. Every seed is valid: the corpus replay test (CipherServerTests,
"Fuzz corpora") checks that each file named `vector-*` is accepted by its target.

    python3 Fuzz/make-seeds.py

Each seed starts with the control bytes its target reads first (Fuzz/Sources/FuzzEntryPoints
says which). Deterministic: the same vectors give the same files. Needs Python's `cryptography`
for the sealed container and the private identity.
"""

import hashlib
import hmac
import json
import struct
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ROOT = Path(__file__).resolve().parent.parent
VECTORS = json.loads((ROOT / "Tests/CipherCoreTests/Vectors/protocol-v1.json").read_text())
FIXTURES = ROOT / "Sources/CipherTesting/Fixtures"
CORPUS = ROOT / "Fuzz/Corpus"


def v(name):
    return bytes.fromhex(VECTORS[name])


# ------------------------------------------------------------ proto3 wire format (PROTOCOL 2.1)

def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def uint(field, n):
    return varint(field << 3) + varint(n) if n else b""


def lp(field, data):
    if isinstance(data, str):
        data = data.encode()
    return varint(field << 3 | 2) + varint(len(data)) + data


def fields_of(message):
    """(field number, bytes) of each length-delimited field of an encoding."""
    out, i = [], 0
    while i < len(message):
        key, i = read_varint(message, i)
        if key & 7 == 2:
            n, i = read_varint(message, i)
            out.append((key >> 3, message[i:i + n]))
            i += n
        elif key & 7 == 0:
            _, i = read_varint(message, i)
        else:
            raise ValueError("unexpected wire type")
    return out


def read_varint(buf, i):
    n = shift = 0
    while True:
        b = buf[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, i


def frame(payload):
    return struct.pack(">I", len(payload)) + payload


# ------------------------------------------------------------ messages built from the vectors

ALICE, BOB = v("alice_identity"), v("bob_identity")
ONE_TIME_PUBLIC = x25519.X25519PrivateKey.from_private_bytes(v("bob_one_time_prekey_private")).public_key().public_bytes(
    serialization.Encoding.Raw, serialization.PublicFormat.Raw)
ONE_TIME = uint(1, 100) + lp(2, ONE_TIME_PUBLIC)
BUNDLE = lp(1, BOB) + lp(2, v("bob_signed_prekey")) + lp(3, v("bob_pq_prekey")) + lp(4, ONE_TIME)
BUNDLE_WITHOUT_ONE_TIME = lp(1, BOB) + lp(2, v("bob_signed_prekey")) + lp(3, v("bob_pq_prekey"))
CHAIN = lp(1, v("room_statement_create")) + lp(1, v("room_statement_invite"))
ROOM_ENVELOPE_MESSAGE = lp(1, "#vectors") + lp(2, "alice") + lp(3, v("group_message"))
ROOM_ENVELOPE_CHAIN = lp(1, "#vectors") + lp(2, "alice") + lp(4, CHAIN)
MESSAGE_ID = bytes(range(1, 17))
# Ed25519 public key of the signing seed 0x24 * 32 (PROTOCOL.md 11.5).
GROUP_SIGNING_KEY = bytes.fromhex("58936604abda112bc94933569c82f8d0cc0ddf92a3f8329f2f448f7f484a594c")
DISTRIBUTION = lp(1, "#vectors") + uint(2, 0x01020304) + uint(3, 7) + lp(4, b"\x42" * 32) + lp(5, GROUP_SIGNING_KEY)
RATCHET_ENVELOPE_1 = lp(2, v("ratchet_message_1"))
RATCHET_ENVELOPE_2 = lp(2, v("ratchet_message_2"))
OFFER = lp(1, bytes(range(16))) + lp(2, v("file_manifest"))
ROOM_OFFER = OFFER + lp(3, "#vectors")


def client_frame(request_id, tag, body):
    return uint(1, request_id) + lp(tag, body)


def server_frame(request_id, tag, body):
    return uint(1, request_id) + lp(tag, body)


REGISTER = client_frame(1, 2, lp(1, "alice") + lp(2, ALICE) + lp(3, bytes(256)))
LOGIN = client_frame(2, 3, lp(1, "alice") + lp(2, bytes(256)))
PUBLISH = client_frame(3, 4, lp(1, v("bob_signed_prekey")) + lp(2, v("bob_pq_prekey")) + lp(3, ONE_TIME))
FETCH_BUNDLE = client_frame(4, 5, lp(1, "bob"))
SEND = client_frame(5, 6, lp(1, "bob") + lp(2, MESSAGE_ID) + lp(3, v("handshake_envelope")))
ACKNOWLEDGE = client_frame(6, 7, varint(1 << 3 | 0) + varint(7))
PING = client_frame(7, 8, b"")
ROOM_CHANGE = client_frame(8, 20, lp(1, v("room_statement_invite")))
ROOM_SEND = client_frame(9, 21, lp(1, "#vectors") + lp(2, MESSAGE_ID) + lp(3, v("group_message")))
FETCH_ROOM = client_frame(10, 22, lp(1, "#vectors"))
BLOB_START = client_frame(11, 40, lp(1, bytes(range(16))) + uint(2, 1500) + uint(3, 1024) + lp(4, "bob"))

CHALLENGE = server_frame(0, 2, lp(1, bytes(32)) + uint(2, 1))
WELCOME = server_frame(2, 3, lp(1, "alice") + uint(2, 3) + uint(3, 100))
ERROR = server_frame(5, 4, uint(1, 9) + lp(2, "slow down\x1b[2J") + uint(3, 1000) + lp(4, "messages"))
BUNDLE_FRAME = server_frame(4, 5, lp(1, "bob") + lp(2, BUNDLE))
DELIVERY = server_frame(0, 7, uint(1, 1) + lp(2, "alice") + lp(3, MESSAGE_ID) + uint(4, 1767225600000)
                        + lp(5, v("handshake_envelope")))
ROOM_DELIVERY = server_frame(0, 7, uint(1, 2) + lp(2, "#vectors") + lp(3, MESSAGE_ID) + uint(4, 1767225600000)
                             + lp(5, ROOM_ENVELOPE_MESSAGE))
ROOM_STATE = server_frame(10, 21, lp(1, "#vectors") + lp(2, CHAIN))


CLIENT_FRAMES = {
    "register": REGISTER, "login": LOGIN, "publish-prekeys": PUBLISH, "fetch-bundle": FETCH_BUNDLE, "send": SEND,
    "acknowledge": ACKNOWLEDGE, "ping": PING, "room-change": ROOM_CHANGE, "room-send": ROOM_SEND,
    "fetch-room": FETCH_ROOM, "blob-upload-start": BLOB_START,
}
SERVER_FRAMES = {
    "challenge": CHALLENGE, "welcome": WELCOME, "error": ERROR, "bundle": BUNDLE_FRAME, "delivery": DELIVERY,
    "room-delivery": ROOM_DELIVERY, "room-state": ROOM_STATE,
}


# ------------------------------------------------------------ stored forms

def private_identity(name, public_identity):
    def pkcs1(pem):
        key = serialization.load_pem_private_key((FIXTURES / pem).read_bytes(), password=None)
        return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL,
                                 serialization.NoEncryption())
    signature = dict(fields_of(public_identity))[3]
    return uint(1, 1) + lp(2, pkcs1(f"{name}-signing.pem")) + lp(3, pkcs1(f"{name}-encryption.pem")) + lp(4, signature)


def sealed_container(plaintext, kdf_header, master):
    """PROTOCOL.md 4.3; the passphrase and context are FuzzFixtures'. Salt and nonce are fixed."""
    salt, nonce = bytes(range(16)), bytes(range(12))

    def expand(info, n):
        return hmac.new(master(salt), info + b"\x01", hashlib.sha256).digest()[:n]

    header = b"CCSEAL" + b"\x01" + kdf_header + salt + expand(b"cipherchat/v1/seal-check", 16) + nonce
    context = b"cipherchat/fuzz/sealed-container"
    aad = struct.pack(">I", len(header)) + header + struct.pack(">I", len(context)) + context
    body = header + AESGCM(expand(b"cipherchat/v1/seal-key", 32)).encrypt(nonce, plaintext, aad)
    return body


PASSPHRASE = b"correct horse battery staple"
SCRYPT_HEADER = bytes([1, 10]) + struct.pack(">II", 1, 1)
SCRYPT_BODY = sealed_container(
    b"a secret", SCRYPT_HEADER,
    lambda salt: hashlib.scrypt(PASSPHRASE, salt=salt, n=1 << 10, r=1, p=1, dklen=32))
PBKDF2_BODY = sealed_container(
    b"a secret", bytes([2]) + struct.pack(">I", 600_000),
    lambda salt: hashlib.pbkdf2_hmac("sha256", PASSPHRASE, salt, 600_000, 32))


def with_checksum(body):
    return body + hashlib.sha256(body).digest()


# ------------------------------------------------------------ PROXY protocol v2 (HAProxy's proxy-protocol.txt 2.2)

PROXY_SIGNATURE = bytes([0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A])


def proxy_header(version_command, family_transport, addresses, tlvs=b""):
    rest = addresses + tlvs
    return PROXY_SIGNATURE + bytes([version_command, family_transport]) + struct.pack(">H", len(rest)) + rest


PROXY_TCP4 = proxy_header(0x21, 0x11, bytes([192, 0, 2, 7, 10, 0, 0, 1]) + struct.pack(">HH", 51234, 7443))
PROXY_TCP6 = proxy_header(0x21, 0x21, bytes.fromhex("20010db8000000000000000000000007") + bytes(15) + b"\x01"
                          + struct.pack(">HH", 51234, 7443))
# A TLV of type PP2_TYPE_AUTHORITY (0x02), which the relay skips, after the IPv4 addresses.
PROXY_TCP4_TLV = proxy_header(0x21, 0x11, bytes([192, 0, 2, 7, 10, 0, 0, 1]) + struct.pack(">HH", 51234, 7443),
                              bytes([0x02]) + struct.pack(">H", 9) + b"relay.lan")
PROXY_LOCAL = proxy_header(0x20, 0x00, b"")
# What follows the header on a real connection: the start of the client's TLS ClientHello.
TLS_START = bytes([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03])


# ------------------------------------------------------------ the seeds, by target

RELAY, CLIENT = 0, 1
NEVER = 255
SEEDS = {
    "FuzzFrameDecoder": {
        # piece size, the piece after which the limit is raised, the side; then the stream.
        "vector-relay-login": bytes([0, NEVER, RELAY]) + frame(REGISTER) + frame(LOGIN) + frame(PING),
        "vector-relay-after-login": bytes([5, 3, RELAY]) + b"".join(frame(f) for f in CLIENT_FRAMES.values()),
        "vector-relay-too-large": bytes([1, NEVER, RELAY]) + frame(PING) + struct.pack(">I", 8193) + bytes(16),
        "vector-client": bytes([13, NEVER, CLIENT]) + b"".join(frame(f) for f in SERVER_FRAMES.values()),
    },
    "FuzzWireMessages": {
        # Which decoder: WireMessagesEntry.Decoder's order.
        **{f"vector-client-frame-{name}": bytes([0]) + f for name, f in CLIENT_FRAMES.items()},
        **{f"vector-server-frame-{name}": bytes([1]) + f for name, f in SERVER_FRAMES.items()},
        "vector-room-envelope-message": bytes([2]) + ROOM_ENVELOPE_MESSAGE,
        "vector-room-envelope-chain": bytes([2]) + ROOM_ENVELOPE_CHAIN,
        "vector-public-identity-alice": bytes([3]) + ALICE,
        "vector-public-identity-bob": bytes([3]) + BOB,
        "vector-private-identity-alice": bytes([4]) + private_identity("alice", ALICE),
        "vector-sender-key-distribution": bytes([9]) + DISTRIBUTION,
        "vector-decryption-failure": bytes([10]) + v("decryption_failure_content"),
    },
    "FuzzSessionMessages": {
        "vector-bundle": bytes([0]) + BUNDLE,
        "vector-bundle-without-one-time-prekey": bytes([0]) + BUNDLE_WITHOUT_ONE_TIME,
        "vector-handshake-envelope": bytes([1]) + v("handshake_envelope"),
        "vector-ratchet-envelope-1": bytes([1]) + RATCHET_ENVELOPE_1,
        "vector-ratchet-envelope-2": bytes([1]) + RATCHET_ENVELOPE_2,
    },
    "FuzzGroup": {
        "vector-group-message": bytes([0]) + v("group_message"),
        "vector-room-statement-create": bytes([1]) + v("room_statement_create"),
        "vector-room-statement-invite": bytes([1]) + v("room_statement_invite"),
        "vector-room-chain": bytes([2]) + CHAIN,
        "vector-sender-key-distribution": bytes([3]) + DISTRIBUTION,
    },
    "FuzzFiles": {
        "vector-manifest": bytes([0]) + v("file_manifest"),
        "vector-offer": bytes([1]) + OFFER,
        "vector-room-offer": bytes([1]) + ROOM_OFFER,
        "vector-chunks": bytes([2, 0, 0]) + v("file_chunk_0") + v("file_chunk_1_final"),
    },
    "FuzzProxyHeader": {
        "vector-tcp4": PROXY_TCP4 + TLS_START,
        "vector-tcp6": PROXY_TCP6 + TLS_START,
        "vector-tcp4-tlv": PROXY_TCP4_TLV + TLS_START,
        "vector-local": PROXY_LOCAL,
    },
    "FuzzSealedContainer": {
        "vector-scrypt-whole": bytes([0]) + with_checksum(SCRYPT_BODY),
        "vector-scrypt-checksum-appended": bytes([1]) + SCRYPT_BODY,
        "vector-pbkdf2-checksum-appended": bytes([1]) + PBKDF2_BODY,
    },
}


def main():
    for target, seeds in SEEDS.items():
        directory = CORPUS / target
        directory.mkdir(parents=True, exist_ok=True)
        for old in directory.glob("vector-*"):
            old.unlink()
        for name, data in seeds.items():
            (directory / name).write_bytes(data)
        print(f"{target}: {len(seeds)} seeds")


if __name__ == "__main__":
    main()
