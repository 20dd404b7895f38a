#!/usr/bin/env bash
# Makes the RSA-2048 test identities under Sources/CipherTesting/Fixtures. Committed once so
# that no test generates an RSA key (slow in debug builds) and vectors stay fixed. These keys
# are public test material: never use them for anything else.
set -euo pipefail
cd "$(dirname "$0")/../Sources/CipherTesting/Fixtures"
for user in alice bob carol mallory; do
  for role in signing encryption; do
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$user-$role.pem" 2>/dev/null
  done
done
ls
