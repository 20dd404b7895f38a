#!/usr/bin/env bash
# Makes the RSA-2048 test identities under Sources/CipherTesting/Fixtures: for each user a
# signing key, an encryption key, and the certificate of the encryption key by the signing key
# (PROTOCOL.md 4.1), made here with OpenSSL alone as an independent check of the statement's
# layout. Committed once so that no test generates an RSA key (slow in debug builds) and the
# vectors stay fixed. These keys are public test material: never use them for anything else.
set -euo pipefail
cd "$(dirname "$0")/../Sources/CipherTesting/Fixtures"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# LP(x): a 4-byte big-endian length, then x.
length_prefixed() {
  python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); sys.stdout.buffer.write(len(d).to_bytes(4,"big")+d)' "$1"
}

for user in alice bob carol mallory; do
  for role in signing encryption; do
    [ -f "$user-$role.pem" ] || openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$user-$role.pem" 2>/dev/null
    openssl pkey -in "$user-$role.pem" -pubout -outform DER -out "$work/$user-$role.spki"
  done
  printf 'cipherchat/v1/encryption-key' > "$work/label"
  {
    length_prefixed "$work/label"
    length_prefixed "$work/$user-signing.spki"
    length_prefixed "$work/$user-encryption.spki"
  } > "$work/statement"
  openssl dgst -sha256 -binary "$work/statement" > "$work/digest"
  openssl pkeyutl -sign -in "$work/digest" -inkey "$user-signing.pem" \
    -pkeyopt digest:sha256 -pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:32 -pkeyopt rsa_mgf1_md:sha256 \
    -out "$work/signature"
  od -An -v -tx1 "$work/signature" | tr -d ' \n' > "$user-certificate.hex"
  echo >> "$user-certificate.hex"
done
ls
