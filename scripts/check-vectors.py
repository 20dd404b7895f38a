#!/usr/bin/env python3
"""Independent check of the CipherChat protocol v1 test vectors (docs/PROTOCOL.md section 11).

Written from docs/PROTOCOL.md and Protos/*.proto only, as a second implementation: it recomputes
or verifies every vector from the rules of the document, with Python's standard library and the
`cryptography` package (which must provide ML-KEM-768 for the X-Wing part of the handshake).

    python3 scripts/check-vectors.py

Prints one line per check ("ok: ..." or "FAIL: ...") and ends with "N passed, M failed"; exits
non-zero if anything failed.
"""

import hashlib
import hmac
import json
import re
import struct
import sys
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

try:
    from cryptography.hazmat.primitives.asymmetric import mlkem
except ImportError:  # older `cryptography`: the KEM part of 11.3 cannot be checked
    mlkem = None

ROOT = Path(__file__).resolve().parent.parent
VECTORS = ROOT / "Tests/CipherCoreTests/Vectors/protocol-v1.json"
FIXTURES = ROOT / "Sources/CipherTesting/Fixtures"
SPEC = ROOT / "docs/PROTOCOL.md"

passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok: {name}")
    else:
        failed += 1
        print(f"FAIL: {name}" + (f" ({detail})" if detail else ""))
    return ok


def run(name, fn):
    """Run a group of checks; an exception is one failure, not the end of the script."""
    try:
        fn()
    except Exception as e:  # noqa: BLE001
        check(name, False, f"{type(e).__name__}: {e}")


# ---------------------------------------------------------------- proto3 wire format (2.1)

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


def read_varint(buf, i):
    n = shift = 0
    while True:
        b = buf[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, i
        if shift >= 70:
            raise ValueError("varint too long")


def decode(buf):
    """Field number -> list of values (ints for varint, bytes for length-delimited)."""
    fields, i = {}, 0
    while i < len(buf):
        key, i = read_varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = read_varint(buf, i)
        elif wt == 2:
            n, i = read_varint(buf, i)
            if i + n > len(buf):
                raise ValueError("truncated field")
            v, i = buf[i:i + n], i + n
        elif wt == 1:
            v, i = buf[i:i + 8], i + 8
        elif wt == 5:
            v, i = buf[i:i + 4], i + 4
        else:
            raise ValueError(f"wire type {wt}")
        fields.setdefault(num, []).append(v)
    return fields


def one(fields, num, default=None):
    """Last value wins, as in proto3; absent reads as the default."""
    return fields[num][-1] if num in fields else default


def encode(*fields):
    """(number, value) pairs in the given order; proto3 defaults (0, b"", False) are omitted."""
    out = bytearray()
    for num, v in fields:
        if v is None or v == 0 or v == b"" or v is False:
            continue
        if isinstance(v, bool) or isinstance(v, int):
            out += varint(num << 3) + varint(int(v))
        else:
            v = v.encode() if isinstance(v, str) else bytes(v)
            out += varint(num << 3 | 2) + varint(len(v)) + v
    return bytes(out)


# ---------------------------------------------------------------- primitives (sections 1, 2.2)

def u32(n):
    return struct.pack(">I", n)


def u64(n):
    return struct.pack(">Q", n)


def LP(x):
    return u32(len(x)) + x


def hmac256(k, m):
    return hmac.new(k, m, hashlib.sha256).digest()


def hkdf_extract(salt, ikm):
    return hmac256(salt, ikm)


def hkdf_expand(prk, info, length):
    out, t, c = b"", b"", 1
    while len(out) < length:
        t = hmac256(prk, t + info + bytes([c]))
        out += t
        c += 1
    return out[:length]


def hkdf(ikm, salt, info, length):
    return hkdf_expand(hkdf_extract(salt, ikm), info, length)


def x25519_pub(k):
    return x25519.X25519PrivateKey.from_private_bytes(k).public_key().public_bytes_raw()


def x25519_dh(k, u):
    return x25519.X25519PrivateKey.from_private_bytes(k).exchange(x25519.X25519PublicKey.from_public_bytes(u))


PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def pss_verify(spki, msg, sig):
    key = serialization.load_der_public_key(spki)
    try:
        key.verify(sig, msg, PSS, hashes.SHA256())
        return True
    except InvalidSignature:
        return False


# X-Wing, draft-connolly-cfrg-xwing-kem-06 (section 5.2, 5.5 there): the private key is a 32-byte
# seed expanded with SHAKE256 to 96 bytes (ML-KEM-768 seed d||z, then the X25519 private key), and
# the shared secret is SHA3-256(ss_M || ss_X || ct_X || pk_X || XWingLabel).
XWING_LABEL = b"\\.//^\\"


def xwing_expand(seed):
    expanded = hashlib.shake_256(seed).digest(96)
    sk_m = mlkem.MLKEM768PrivateKey.from_seed_bytes(expanded[0:64])
    sk_x = expanded[64:96]
    return sk_m, sk_x, sk_m.public_key().public_bytes_raw(), x25519_pub(sk_x)


def xwing_public(seed):
    _, _, pk_m, pk_x = xwing_expand(seed)
    return pk_m + pk_x


def xwing_decaps(seed, ct):
    assert len(ct) == 1120
    sk_m, sk_x, _, pk_x = xwing_expand(seed)
    ct_m, ct_x = ct[:1088], ct[1088:]
    ss_m = sk_m.decapsulate(ct_m)
    ss_x = x25519_dh(sk_x, ct_x)
    return hashlib.sha3_256(ss_m + ss_x + ct_x + pk_x + XWING_LABEL).digest()


# ---------------------------------------------------------------- protocol constructions

L_ENC_KEY = b"cipherchat/v1/encryption-key"
L_SPK = b"cipherchat/v1/signed-prekey"
L_PQPK = b"cipherchat/v1/pq-prekey"
L_TRANSCRIPT = b"cipherchat/v1/handshake-transcript"
L_SESSION = b"cipherchat/v1/session"
L_ROOT = b"cipherchat/v1/ratchet-root"
L_MSG_KEYS = b"cipherchat/v1/message-keys"
L_RATCHET_MSG = b"cipherchat/v1/ratchet-message"
L_GROUP_KEYS = b"cipherchat/v1/group-message-keys"
L_GROUP_MSG = b"cipherchat/v1/group-message"
L_FILE = b"cipherchat/v1/file-stream"
L_ROOM_STATEMENT = b"cipherchat/v1/room-statement"
L_ENVELOPE_DIGEST = b"cipherchat/v1/envelope-digest"


def parse_identity(b):  # 4.1
    f = decode(b)
    return {"signing": one(f, 1, b""), "encryption": one(f, 2, b""), "certificate": one(f, 3, b"")}


def identity_statement(ident):  # 4.1
    return LP(L_ENC_KEY) + LP(ident["signing"]) + LP(ident["encryption"])


def canonical_identity(ident):  # 4.1
    return LP(ident["signing"]) + LP(ident["encryption"]) + LP(ident["certificate"])


def parse_prekey(b):  # 5.1: SignedPrekey and PostQuantumPrekey share field numbers
    f = decode(b)
    return {"id": one(f, 1, 0), "created_at": one(f, 2, 0), "public": one(f, 3, b""), "signature": one(f, 4, b"")}


def prekey_statement(label, pk):  # 5.1
    return LP(label) + u32(pk["id"]) + u64(pk["created_at"]) + LP(pk["public"])


def canonical_prekey(pk):  # 5.1
    return u32(pk["id"]) + u64(pk["created_at"]) + LP(pk["public"]) + LP(pk["signature"])


def fingerprint(ident):  # 4.2
    return hashlib.sha256(ident["signing"]).digest()


def fingerprint_display(fp):  # 4.2
    h = fp.hex()
    return " ".join(h[i:i + 4] for i in range(0, 64, 4))


def safety_half(key, ident):  # 4.4
    h = b"\x00\x00" + key + ident
    for _ in range(5200):
        h = hashlib.sha512(h + key).digest()
    return "".join(f"{int.from_bytes(h[5 * i:5 * i + 5], 'big') % 100000:05d}" for i in range(6))


def safety_number(key_a, id_a, key_b, id_b):  # 4.4
    a, b = safety_half(key_a, id_a), safety_half(key_b, id_b)
    return min(a, b) + max(a, b)


def chain_step(ck):  # 6.2
    return hmac256(ck, b"\x01"), hmac256(ck, b"\x02")


def kdf_rk(rk, dh):  # 6.5
    out = hkdf(dh, rk, L_ROOT, 64)
    return out[:32], out[32:]


def message_keys(mk, label=L_MSG_KEYS):  # 6.3, 8.3
    out = hkdf_expand(mk, label, 44)
    return out[:32], out[32:]


def ratchet_aad(ad, ratchet_key, pn, n):  # 6.4
    header = ratchet_key + u32(pn) + u32(n)
    assert len(header) == 40
    aad = LP(L_RATCHET_MSG) + ad + header
    assert len(aad) == 169, len(aad)
    return aad


def parse_ratchet_message(b):  # 6.4
    f = decode(b)
    return {"ratchet_key": one(f, 1, b""), "pn": one(f, 2, 0), "n": one(f, 3, 0), "ciphertext": one(f, 4, b"")}


def encode_ratchet_message(rk, pn, n, ct):  # 6.4
    return encode((1, rk), (2, pn), (3, n), (4, ct))


def encode_payload(message_id, sent_at_ms, kind, content):  # 7.1, with its padding rule
    e = encode((1, message_id), (2, sent_at_ms), (3, kind), (4, content))
    if len(e) % 32 == 0:
        return e
    n = (32 - (len(e) + 2) % 32) % 32
    if n == 0:
        n = 32
    out = e + encode((5, b"\x00" * n))
    assert len(out) % 32 == 0
    return out


def parse_payload(b):  # 7.1
    f = decode(b)
    return {"message_id": one(f, 1, b""), "sent_at_ms": one(f, 2, 0), "kind": one(f, 3, 0),
            "content": one(f, 4, b""), "padding": one(f, 5, b"")}


class Ratchet:
    """Section 6, with the freshly drawn ratchet keys supplied by the caller (11.4 fixes them)."""

    def __init__(self, ad):
        self.ad, self.rk = ad, None
        self.dhs = self.dhr = self.cks = self.ckr = None
        self.ns = self.nr = self.pn = 0
        self.skipped = {}

    @classmethod
    def initiator(cls, sk, ad, dhr, new_private):  # 6.1
        r = cls(ad)
        r.dhs, r.dhr = new_private, dhr
        r.rk, r.cks = kdf_rk(sk, x25519_dh(r.dhs, r.dhr))
        return r

    @classmethod
    def responder(cls, sk, ad, spk_private):  # 6.1
        r = cls(ad)
        r.dhs, r.rk = spk_private, sk
        return r

    def encrypt(self, payload):  # 6.4
        if self.cks is None:
            raise ValueError("cannot send yet")
        mk, self.cks = chain_step(self.cks)
        pub = x25519_pub(self.dhs)
        key, nonce = message_keys(mk)
        ct = AESGCM(key).encrypt(nonce, payload, ratchet_aad(self.ad, pub, self.pn, self.ns))
        msg = encode_ratchet_message(pub, self.pn, self.ns, ct)
        self.ns += 1
        return msg

    def _skip(self, until):
        if self.ckr is None or self.dhr is None or until < self.nr:
            return
        if until - self.nr > 1000:
            raise ValueError("tooFarAhead")
        while self.nr < until:
            mk, self.ckr = chain_step(self.ckr)
            self.skipped[(self.dhr, self.nr)] = mk
            self.nr += 1

    def decrypt(self, m, next_private):  # 6.5 (not on a copy: a failure here ends the check)
        aad = ratchet_aad(self.ad, m["ratchet_key"], m["pn"], m["n"])
        mk = self.skipped.pop((m["ratchet_key"], m["n"]), None)
        if mk is None:
            if m["ratchet_key"] != self.dhr:
                self._skip(m["pn"])
                self.pn, self.ns, self.nr = self.ns, 0, 0
                self.dhr = m["ratchet_key"]
                self.rk, self.ckr = kdf_rk(self.rk, x25519_dh(self.dhs, self.dhr))
                self.dhs = next_private
                self.rk, self.cks = kdf_rk(self.rk, x25519_dh(self.dhs, self.dhr))
            self._skip(m["n"])
            if self.ckr is None:
                raise ValueError("no receiving chain")
            mk, self.ckr = chain_step(self.ckr)
            self.nr += 1
        key, nonce = message_keys(mk)
        return AESGCM(key).decrypt(nonce, m["ciphertext"], aad)


# ---------------------------------------------------------------- inputs

V = json.loads(VECTORS.read_text())


def hx(name):
    return bytes.fromhex(V[name])


def fixture(name):
    return (FIXTURES / name).read_bytes()


def private_key(name):
    return serialization.load_pem_private_key(fixture(name), password=None)


def spki_of(key):
    return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


MESSAGE_ID = bytes.fromhex("0102030405060708090a0b0c0d0e0f10")  # section 11, common inputs
SENT_AT = 1767225600000
KIND_TEXT, KIND_FILE_MANIFEST = 1, 2


# ---------------------------------------------------------------- 11: the document against the JSON

def check_document_matches_json():
    text = SPEC.read_text()
    sec = text[text.index("## 11 Test vectors"):]
    blocks = []  # (position, joined hex) of every indented block and inline `hex` in section 11
    for m in re.finditer(r"(?:\n\n((?:    [0-9a-f ]+\n)+))|`([0-9a-f]{16,})`", sec):
        if m.group(1):
            blocks.append((m.start(), "".join(m.group(1).split())))
        else:
            blocks.append((m.start(), m.group(2)))
    bad = []
    for key, value in V.items():
        if not re.fullmatch(r"[0-9a-f]+", value):
            continue
        # where the value is given: "`key`:", "(`key`):" or "(`key`, ...):"; the first hex after it
        named = [m.end() for m in re.finditer(rf"`{key}`(?::|\):|, [^()\n]*\):)", sec)]
        if named:
            for at in named:
                after = [b for p, b in blocks if p >= at]
                if not after or after[0] != value:
                    bad.append(key)
        elif value not in [b for _, b in blocks]:
            bad.append(key)
    digits = re.search(r"\n    ((?:\d{5} ){11}\d{5})\n", sec)
    if not digits or digits.group(1).replace(" ", "") != V["safety_number_alice_bob"]:
        bad.append("safety_number_alice_bob")
    check("11: every hex value in the JSON file is the one section 11 shows", not bad, ", ".join(bad))


# ---------------------------------------------------------------- 11.1 identities

IDENTITIES = {}


def check_identities():
    for user in ("alice", "bob"):
        raw = hx(f"{user}_identity")
        ident = parse_identity(raw)
        IDENTITIES[user] = ident
        check(f"11.1 {user}: PublicIdentity re-encodes to the same bytes (fields 1, 2, 3 in order)",
              encode((1, ident["signing"]), (2, ident["encryption"]), (3, ident["certificate"])) == raw)
        sig_key = serialization.load_der_public_key(ident["signing"])
        enc_key = serialization.load_der_public_key(ident["encryption"])
        check(f"11.1 {user}: both SPKIs are canonical DER RSA-{sig_key.key_size}/{enc_key.key_size}, distinct, within limits",
              spki_of_public(sig_key) == ident["signing"] and spki_of_public(enc_key) == ident["encryption"]
              and sig_key.key_size in (2048, 3072, 4096) and enc_key.key_size in (2048, 3072, 4096)
              and ident["signing"] != ident["encryption"] and len(ident["signing"]) <= 1024
              and len(ident["encryption"]) <= 1024 and len(ident["certificate"]) <= 512)
        check(f"11.1 {user}: SPKIs are those of {user}-signing.pem and {user}-encryption.pem",
              spki_of(private_key(f"{user}-signing.pem")) == ident["signing"]
              and spki_of(private_key(f"{user}-encryption.pem")) == ident["encryption"])
        check(f"11.1 {user}: certificate equals {user}-certificate.hex",
              bytes.fromhex(fixture(f"{user}-certificate.hex").decode().strip()) == ident["certificate"])
        check(f"11.1 {user}: encryption-key certificate verifies (PSS-SHA256, MGF1-SHA256, salt 32) over the 4.1 statement",
              pss_verify(ident["signing"], identity_statement(ident), ident["certificate"]))
        other = dict(ident, encryption=parse_identity(hx("bob_identity" if user == "alice" else "alice_identity"))["encryption"])
        check(f"11.1 {user}: certificate does not verify over a statement naming another encryption key",
              not pss_verify(ident["signing"], identity_statement(other), ident["certificate"]))


def spki_of_public(pub):
    return pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


# ---------------------------------------------------------------- 11.2 safety number, 4.2 fingerprints

def check_safety_number():
    a, b = IDENTITIES["alice"], IDENTITIES["bob"]
    got = safety_number(a["signing"], b"alice", b["signing"], b"bob")
    other_way = safety_number(b["signing"], b"bob", a["signing"], b"alice")
    check("11.2 safety number alice/bob", got == V["safety_number_alice_bob"] and got == other_way,
          f"got {got}")
    print("      safety number: " + " ".join(got[i:i + 5] for i in range(0, 60, 5)))
    for user in ("alice", "bob"):
        fp = fingerprint(IDENTITIES[user])
        print(f"      {user} fingerprint: {fingerprint_display(fp)}  (short id {fp.hex()[:16]})")
    ad = hx("handshake_session_associated_data")
    check("4.2 fingerprints are SHA-256 of the signing SPKI (as the first 64 bytes of the 11.3 session AD show)",
          ad[:32] == fingerprint(a) and ad[32:64] == fingerprint(b))


# ---------------------------------------------------------------- 11.3 handshake

def check_handshake():
    alice, bob = IDENTITIES["alice"], IDENTITIES["bob"]
    env = decode(hx("handshake_envelope"))
    check("11.3 envelope holds a prekey body (field 1) only", set(env) == {1})
    pm = decode(one(env, 1))
    sender = parse_identity(one(pm, 1, b""))
    spk_a_raw = one(pm, 2, b"")
    spk_a = parse_prekey(spk_a_raw)
    spk_b_id, pq_b_id = one(pm, 3, 0), one(pm, 4, 0)
    opk_used, opk_id = bool(one(pm, 5, 0)), one(pm, 6, 0)
    ek_a, w, ct = one(pm, 7, b""), one(pm, 8, b""), one(pm, 9, b"")
    inner = one(pm, 10)
    check("11.3 PrekeyMessage fields well formed (EK 32, W 256, CT 1120, message present)",
          len(ek_a) == 32 and len(w) in (256, 384, 512) and len(ct) == 1120 and inner is not None,
          f"EK {len(ek_a)}, W {len(w)}, CT {len(ct)}")
    check("11.3 sender identity is alice_identity", canonical_identity(sender) == canonical_identity(alice))
    check("11.3 sender signed prekey is alice_signed_prekey (same bytes)", spk_a_raw == hx("alice_signed_prekey"))
    check("11.3 alice's signed prekey signature verifies (5.1 statement)",
          len(spk_a["public"]) == 32 and pss_verify(alice["signing"], prekey_statement(L_SPK, spk_a), spk_a["signature"]))

    spk_b = parse_prekey(hx("bob_signed_prekey"))
    pq_b = parse_prekey(hx("bob_pq_prekey"))
    spk_b_priv = hx("bob_signed_prekey_private")
    opk_priv = hx("bob_one_time_prekey_private")
    check("11.3 bob's signed prekey verifies and matches its private key",
          pss_verify(bob["signing"], prekey_statement(L_SPK, spk_b), spk_b["signature"])
          and x25519_pub(spk_b_priv) == spk_b["public"])
    check("11.3 bob's post-quantum prekey verifies (5.1 statement), public key 1216 bytes",
          len(pq_b["public"]) == 1216 and pss_verify(bob["signing"], prekey_statement(L_PQPK, pq_b), pq_b["signature"]))
    check("11.3 message names bob's prekeys: SPK, PQPK, OPK 100 used",
          spk_b_id == spk_b["id"] and pq_b_id == pq_b["id"] and opk_used and opk_id == 100,
          f"spk {spk_b_id}/{spk_b['id']} pq {pq_b_id}/{pq_b['id']} opk {opk_used} {opk_id}")

    # 5.4, from public values only (the OPK public key is not listed, so it is derived here).
    opk = u32(opk_id) + LP(x25519_pub(opk_priv)) if opk_used else b""
    t = (LP(L_TRANSCRIPT) + LP(canonical_identity(sender)) + LP(canonical_identity(bob))
         + LP(canonical_prekey(spk_a)) + LP(canonical_prekey(spk_b)) + LP(canonical_prekey(pq_b))
         + LP(opk) + LP(ek_a) + LP(w) + LP(ct))
    th = hashlib.sha256(t).digest()
    check("11.3 transcript hash (5.4)", th == hx("handshake_transcript_hash"), th.hex())
    ad = fingerprint(sender) + fingerprint(bob) + th
    check("11.3 session associated data (5.4)", ad == hx("handshake_session_associated_data"))

    # 5.3 responder, with bob's private keys.
    dh1 = x25519_dh(spk_b_priv, spk_a["public"])
    dh2 = x25519_dh(spk_b_priv, ek_a)
    dh3 = x25519_dh(opk_priv, ek_a) if opk_used else b""
    s = private_key("bob-encryption.pem").decrypt(w, OAEP)
    check("11.3 S = OAEP-Decrypt(bob encryption key, W) is 32 bytes", len(s) == 32, f"{len(s)} bytes")
    if mlkem is None:
        check("11.3 X-Wing decapsulation (needs ML-KEM-768 in `cryptography`)", False, "ML-KEM-768 unavailable")
        return
    seed = hx("bob_pq_prekey_seed")
    check("11.3 X-Wing public key from bob_pq_prekey_seed (draft-06 SHAKE256 expansion) equals the published one",
          xwing_public(seed) == pq_b["public"])
    ss_pq = xwing_decaps(seed, ct)
    ikm = dh1 + dh2 + dh3 + s + ss_pq
    check("11.3 IKM is 160 bytes (one-time prekey used)", len(ikm) == 160)
    sk = hkdf(ikm, b"\x00" * 32, LP(L_SESSION) + th, 32)
    print(f"      SK = {sk.hex()}")

    m = parse_ratchet_message(inner)
    check("11.3 carried RatchetMessage well formed", len(m["ratchet_key"]) == 32 and 16 <= len(m["ciphertext"]) <= 262144)
    bob_ratchet = Ratchet.responder(sk, ad, spk_b_priv)
    plain = bob_ratchet.decrypt(m, next_private=b"\x01" * 32)  # the next private key is not used here
    check("11.3 first ratchet message decrypts under SK and AD (6.1, 6.5)", True)
    p = parse_payload(plain)
    check("11.3 payload: message id, KIND_TEXT, text, padded to 32",
          p["message_id"] == hx("handshake_payload_message_id") and p["kind"] == KIND_TEXT
          and p["content"] == V["handshake_payload_text"].encode() and len(plain) % 32 == 0,
          f"{p}")
    check("11.3 payload is the 7.1 encoding of the common inputs",
          plain == encode_payload(MESSAGE_ID, p["sent_at_ms"], KIND_TEXT, b"hello bob") and p["sent_at_ms"] == SENT_AT,
          f"sent_at_ms {p['sent_at_ms']}")


# ---------------------------------------------------------------- 11.4 ratchet

def check_ratchet():
    sk, ad = b"\x55" * 32, b"\x77" * 96
    spk_b = b"\x66" * 32
    payload1 = encode_payload(MESSAGE_ID, SENT_AT, KIND_TEXT, b"ratchet")
    check("11.4 ratchet_message_1_payload (7.1 encoding and padding)", payload1 == hx("ratchet_message_1_payload"))
    alice = Ratchet.initiator(sk, ad, x25519_pub(spk_b), b"\x33" * 32)
    m1 = alice.encrypt(payload1)
    check("11.4 ratchet_message_1 reproduced byte for byte", m1 == hx("ratchet_message_1"))

    bob = Ratchet.responder(sk, ad, spk_b)
    got1 = bob.decrypt(parse_ratchet_message(hx("ratchet_message_1")), next_private=b"\x88" * 32)
    check("11.4 responder decrypts ratchet_message_1", got1 == hx("ratchet_message_1_payload"))
    payload2 = encode_payload(MESSAGE_ID, SENT_AT + 1, KIND_TEXT, b"reply")
    check("11.4 ratchet_message_2_payload (7.1 encoding and padding)", payload2 == hx("ratchet_message_2_payload"))
    m2 = bob.encrypt(payload2)
    check("11.4 ratchet_message_2 reproduced byte for byte", m2 == hx("ratchet_message_2"))

    got2 = alice.decrypt(parse_ratchet_message(hx("ratchet_message_2")), next_private=b"\x99" * 32)
    check("11.4 initiator decrypts ratchet_message_2 to ratchet_message_2_payload", got2 == hx("ratchet_message_2_payload"))
    p = parse_payload(got2)
    check("11.4 reply payload: text 'reply', sent_at_ms + 1",
          p["content"] == b"reply" and p["sent_at_ms"] == SENT_AT + 1 and p["message_id"] == MESSAGE_ID)


# ---------------------------------------------------------------- 11.5 group message

def check_group():
    room, chain_id, iteration = "#vectors", 0x01020304, 7
    chain_key, seed = b"\x42" * 32, b"\x24" * 32
    sender = fingerprint(IDENTITIES["alice"])
    payload = encode_payload(MESSAGE_ID, SENT_AT, KIND_TEXT, b"hello room")
    mk, _ = chain_step(chain_key)  # the chain key is the key at `iteration` (8.2, 10)
    key, nonce = message_keys(mk, L_GROUP_KEYS)
    aad = LP(L_GROUP_MSG) + LP(room.encode()) + LP(sender) + u32(chain_id) + u32(iteration)
    ct = AESGCM(key).encrypt(nonce, payload, aad)
    signing = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    sig = signing.sign(aad + LP(ct))
    msg = encode((1, room), (2, sender), (3, chain_id), (4, iteration), (5, ct), (6, sig))
    want = hx("group_message")
    f = decode(want)
    check("11.5 group_message header fields (room, sender fingerprint, chain id, iteration)",
          one(f, 1) == room.encode() and one(f, 2) == sender and one(f, 3) == chain_id and one(f, 4) == iteration)
    check("11.5 group_message ciphertext reproduced", one(f, 5) == ct)
    try:
        signing.public_key().verify(one(f, 6), aad + LP(one(f, 5)))
        verified = True
    except InvalidSignature:
        verified = False
    check("11.5 group_message signature verifies over aad || LP(ciphertext)", verified)
    check("11.5 group_message reproduced byte for byte", msg == want)
    plain = AESGCM(key).decrypt(nonce, one(f, 5), aad)
    check("11.5 group payload decrypts to 'hello room'", parse_payload(plain)["content"] == b"hello room")


# ---------------------------------------------------------------- 11.6 files

def check_files():
    file_key, chunk_size = b"\x11" * 32, 1024
    data = bytes(i % 251 for i in range(1500))
    stream_key = hkdf(file_key, b"", L_FILE, 32)
    aead = AESGCM(stream_key)

    def nonce(i, last):
        return i.to_bytes(11, "big") + (b"\x01" if last else b"\x00")

    c0 = aead.encrypt(nonce(0, False), data[:chunk_size], b"")
    c1 = aead.encrypt(nonce(1, True), data[chunk_size:], b"")
    check("11.6 file_chunk_0 reproduced", c0 == hx("file_chunk_0"))
    check("11.6 file_chunk_1_final reproduced (476 bytes + tag)", c1 == hx("file_chunk_1_final") and len(c1) == 476 + 16)
    manifest = encode((1, "vector.bin"), (2, len(data)), (3, hashlib.sha256(data).digest()), (4, file_key), (5, chunk_size))
    check("11.6 file_manifest reproduced", manifest == hx("file_manifest"))


# ---------------------------------------------------------------- 11.7 room statements

ACTION_CREATE, ACTION_INVITE = 1, 2


def parse_statement(b):  # 13.2
    f = decode(b)
    return {"room": one(f, 1, b"").decode(), "epoch": one(f, 2, 0), "previous_hash": one(f, 3, b""),
            "action": one(f, 4, 0), "author": one(f, 5, b"").decode(),
            "author_identity": parse_identity(one(f, 6, b"")), "subject": one(f, 7, b"").decode(),
            "subject_fingerprint": one(f, 8, b""), "signature": one(f, 9, b"")}


def statement_signed_bytes(st):  # 13.2
    return (LP(L_ROOM_STATEMENT) + LP(st["room"].encode()) + u64(st["epoch"]) + LP(st["previous_hash"])
            + u32(st["action"]) + LP(st["author"].encode()) + LP(fingerprint(st["author_identity"]))
            + LP(st["subject"].encode()) + LP(st["subject_fingerprint"]))


def check_rooms():
    alice, bob = IDENTITIES["alice"], IDENTITIES["bob"]
    create, invite = parse_statement(hx("room_statement_create")), parse_statement(hx("room_statement_invite"))
    for name, st in (("create", create), ("invite", invite)):
        signed = statement_signed_bytes(st)
        check(f"11.7 {name}: carries Alice's identity (11.1) as its author's",
              st["author"] == "alice" and canonical_identity(st["author_identity"]) == canonical_identity(alice))
        check(f"11.7 {name}: signature verifies (PSS-SHA256, MGF1-SHA256, salt 32) over the 13.2 signed bytes",
              pss_verify(st["author_identity"]["signing"], signed, st["signature"]))
        check(f"11.7 {name}: statement hash is SHA-256 of the signed bytes",
              hashlib.sha256(signed).digest() == hx(f"room_statement_{name}_hash"))
    check("11.7 create: room #vectors, epoch 1, previous hash all zero, subject is the author",
          create["room"] == "#vectors" and create["epoch"] == 1 and create["previous_hash"] == bytes(32)
          and create["action"] == ACTION_CREATE and create["subject"] == "alice"
          and create["subject_fingerprint"] == fingerprint(alice))
    check("11.7 invite: epoch 2 after the creation's hash, subject bob with Bob's fingerprint",
          invite["room"] == "#vectors" and invite["epoch"] == 2
          and invite["previous_hash"] == hx("room_statement_create_hash") and invite["action"] == ACTION_INVITE
          and invite["subject"] == "bob" and invite["subject_fingerprint"] == fingerprint(bob))
    # 13.3, for these two: the creator is the first member and an admin; an admin invites.
    members = [("alice", fingerprint(alice), True)]
    if invite["author"] in [m[0] for m in members if m[2]]:
        members.append((invite["subject"], invite["subject_fingerprint"], False))
    check("11.7 replayed (13.3): members alice (admin) then bob",
          members == [("alice", fingerprint(alice), True), ("bob", fingerprint(bob), False)])
    altered = dict(invite, subject="bop")
    check("11.7 the invitation naming `bop` instead does not verify",
          not pss_verify(invite["author_identity"]["signing"], statement_signed_bytes(altered), invite["signature"]))


# ---------------------------------------------------------------- 11.9 decryption-failure notice

KIND_DECRYPTION_FAILURE = 7


def check_decryption_failure():
    digest = hashlib.sha256(LP(L_ENVELOPE_DIGEST) + hx("handshake_envelope")).digest()
    check("11.9 envelope digest of the handshake envelope", digest == hx("envelope_digest_handshake"))
    content = encode((1, digest)) + encode((1, b"\xab" * 32))  # repeated bytes: one field each
    check("11.9 DecryptionFailure content", content == hx("decryption_failure_content"))
    parsed = decode(hx("decryption_failure_content"))
    check("11.9 content holds 1 to 64 digests of 32 bytes",
          set(parsed) == {1} and 1 <= len(parsed[1]) <= 64 and all(len(d) == 32 for d in parsed[1]))
    payload = encode_payload(MESSAGE_ID, SENT_AT, KIND_DECRYPTION_FAILURE, content)
    check("11.9 padded payload of kind KIND_DECRYPTION_FAILURE", payload == hx("decryption_failure_payload"))


def main():
    run("11 document vs JSON", check_document_matches_json)
    run("11.1 identities", check_identities)
    have_ids = "alice" in IDENTITIES and "bob" in IDENTITIES
    if have_ids:
        run("11.2 safety number", check_safety_number)
        run("11.3 handshake", check_handshake)
    run("11.4 ratchet", check_ratchet)
    if have_ids:
        run("11.5 group message", check_group)
    run("11.6 files", check_files)
    if have_ids:
        run("11.7 room statements", check_rooms)
    run("11.9 decryption-failure notice", check_decryption_failure)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
