#!/usr/bin/env bash
# Measures the core on this machine beside an OpenSSL baseline taken in the same run: builds
# cipherchat in release, runs `openssl speed` for AES-256-GCM (1 KiB, 64 KiB, 1 MiB) and
# RSA-2048, then `cipherchat-bench --json`, and prints both side by side with the ratio and the
# project's targets (docs/BENCHMARKS.md). Takes about 40 seconds after the build.
#
# Usage: scripts/bench.sh [--quick]
#   --quick   a smoke test: one second per OpenSSL figure and `cipherchat-bench --quick`
# Environment:
#   SCRATCH   release scratch folder (default .build-release; keep the .build-* name)
#   RESULTS   where the raw outputs are kept (default $SCRATCH/bench-results)
# Needs openssl and jq (Debian: apt-get install openssl jq).
set -euo pipefail
cd "$(dirname "$0")/.."

quick=()
seconds=3
case "${1:-}" in
  --quick) quick=(--quick); seconds=1 ;;
  "") ;;
  *) echo "usage: $0 [--quick]" >&2; exit 2 ;;
esac
for tool in openssl jq swift; do
  command -v "$tool" >/dev/null || { echo "$tool not found (Debian: apt-get install $tool)" >&2; exit 1; }
done

scratch=${SCRATCH:-.build-release}
results=${RESULTS:-$scratch/bench-results}
mkdir -p "$results"

echo "bench: building release in $scratch (clean: 5-10 min, ~2.5 GiB peak)..." >&2
swift build -c release --scratch-path "$scratch" --product cipherchat-bench >&2
bin="$scratch/release/cipherchat-bench"
swift_version=$(swift --version 2>&1 | head -n 1)

# -elapsed: wall-clock time, as cipherchat's ContinuousClock measures (openssl's default is
# CPU time, which flatters a busy machine). -mr: machine-readable lines; `+F` carries bytes
# per second, `+F2` private-key (sign) and public-key (verify) operations per second.
openssl_aes_bytes_per_second() {
  openssl speed -elapsed -mr -seconds "$seconds" -evp aes-256-gcm -bytes "$1" 2>/dev/null \
    | tee -a "$results/openssl.txt" | awk -F: '$1 == "+F" { print $4 }'
}
: > "$results/openssl.txt"
echo "bench: openssl speed -evp aes-256-gcm..." >&2
openssl_1k=$(openssl_aes_bytes_per_second 1024)
openssl_64k=$(openssl_aes_bytes_per_second 65536)
openssl_1m=$(openssl_aes_bytes_per_second 1048576)
echo "bench: openssl speed rsa2048..." >&2
openssl_rsa_signs=$(openssl speed -elapsed -mr -seconds "$seconds" rsa2048 2>/dev/null \
  | tee -a "$results/openssl.txt" | awk -F: '$1 == "+F2" { print $4 }')
for value in "$openssl_1k" "$openssl_64k" "$openssl_1m" "$openssl_rsa_signs"; do
  [ -n "$value" ] || { echo "could not parse openssl speed output: see $results/openssl.txt" >&2; exit 1; }
done

echo "bench: cipherchat-bench ${quick[*]}..." >&2
"$bin" --json "${quick[@]}" --swift-version "$swift_version" > "$results/cipherchat.json"
figure() { jq -r "$1" "$results/cipherchat.json"; }

# One line: label, our figure, OpenSSL's, unit, and our speed relative to OpenSSL's (above 1
# is faster). `kind` says whether a larger figure is better (rate) or worse (time).
compare() {
  local label=$1 ours=$2 theirs=$3 unit=$4 kind=$5
  awk -v l="$label" -v o="$ours" -v t="$theirs" -v u="$unit" -v k="$kind" 'BEGIN {
    ratio = (k == "rate") ? o / t : t / o
    printf "  %-44s %10.2f %-4s %10.2f %-4s %7.2fx\n", l, o, u, t, u, ratio
  }'
}
# One line: label, figure, unit, the target, and whether it is met.
target() {
  local label=$1 value=$2 unit=$3 relation=$4 bound=$5
  awk -v l="$label" -v v="$value" -v u="$unit" -v r="$relation" -v b="$bound" 'BEGIN {
    met = (r == "<") ? (v < b) : (v >= b)
    printf "  %-44s %10.2f %s   target %s %.2f %s   %s\n", l, v, u, r, b, u, (met ? "MET" : "MISSED")
  }'
}
mbps() { awk -v b="$1" 'BEGIN { print b / 1e6 }'; }

# AES figures by size label and malloc setting ("glibc-default" or "raised").
aes() { figure ".aesGCMSeal[] | select(.label == \"$1\" and .malloc == \"$2\") | .megabytesPerSecond"; }
file_stream() { figure ".fileStream[] | select(.malloc == \"$1\") | .$2 | round"; }
primitive_ms() { figure ".primitives[] | select(.name == \"$1\") | .medianMicroseconds / 1000"; }
openssl_rsa_ms=$(awk -v s="$openssl_rsa_signs" 'BEGIN { print 1000 / s }')

echo "cipherchat-bench, $(figure .profile) profile, $(date -u +%Y-%m-%dT%H:%MZ)"
echo "  CPU:    $(figure .machine.cpuModel), $(figure .machine.logicalCores) logical cores ($(figure '.machine.cpuFeatures | join(" ")'))"
echo "  kernel: $(figure .machine.kernel)"
echo "  swift:  $swift_version; $(openssl version)"
echo "  MB = 10^6 bytes; medians; both sides timed by the wall clock on one core"
echo "  malloc: 'default' = glibc's 128 KiB mmap/trim thresholds, 'raised' = 32/64 MiB"
echo
printf "  %-44s %15s %15s %8s\n" "" "cipherchat" "openssl speed" "speed"
compare "AES-256-GCM seal, 1 KiB" "$(aes "1 KiB" glibc-default)" "$(mbps "$openssl_1k")" "MB/s" rate
compare "AES-256-GCM seal, 64 KiB, malloc default" "$(aes "64 KiB" glibc-default)" "$(mbps "$openssl_64k")" "MB/s" rate
compare "AES-256-GCM seal, 64 KiB, malloc raised" "$(aes "64 KiB" raised)" "$(mbps "$openssl_64k")" "MB/s" rate
compare "AES-256-GCM seal, 1 MiB, malloc default" "$(aes "1 MiB" glibc-default)" "$(mbps "$openssl_1m")" "MB/s" rate
compare "AES-256-GCM seal, 1 MiB, malloc raised" "$(aes "1 MiB" raised)" "$(mbps "$openssl_1m")" "MB/s" rate
compare "AES-256-GCM seal, 1 MiB as 16x64K, default" "$(aes "1 MiB as 16 x 64 KiB" glibc-default)" "$(mbps "$openssl_1m")" "MB/s" rate
compare "RSA-2048 private op: PSS sign" "$(primitive_ms "RSA-2048 PSS sign (private key)")" "$openssl_rsa_ms" "ms" time
compare "RSA-2048 private op: OAEP decrypt" "$(primitive_ms "RSA-2048 OAEP decrypt (private key)")" "$openssl_rsa_ms" "ms" time
echo
echo "  RSA-2048 key generation: PrivateIdentity.generate() $(figure '.keyGeneration.identityMedianMilliseconds | . * 10 | round / 10') ms," \
  "one key $(figure '.keyGeneration.rsaKeyMedianMilliseconds | . * 10 | round / 10') ms"
echo "  handshake: initiator $(figure '.handshake.initiatorMedianMilliseconds | . * 1000 | round / 1000') ms," \
  "responder $(figure '.handshake.responderMedianMilliseconds | . * 1000 | round / 1000') ms"
echo "  ratchet, 200 B text, one way: encrypt $(figure '.ratchet.oneWayEncryptMedianMicroseconds | . * 100 | round / 100') µs," \
  "decrypt $(figure '.ratchet.oneWayDecryptMedianMicroseconds | . * 100 | round / 100') µs;" \
  "ping-pong $(figure '.ratchet.pingPongMedianMicroseconds | . * 100 | round / 100') µs per message"
echo "  file STREAM, $(figure '.fileStream[0].fileBytes / 1048576') MiB, malloc default:" \
  "encrypt $(file_stream glibc-default encryptMegabytesPerSecond) MB/s, decrypt $(file_stream glibc-default decryptMegabytesPerSecond) MB/s;" \
  "raised: $(file_stream raised encryptMegabytesPerSecond) / $(file_stream raised decryptMegabytesPerSecond) MB/s"
echo
echo "  targets (the project's issue)"
target "AES-256-GCM seal, 64 KiB, malloc default" "$(aes "64 KiB" glibc-default)" "MB/s" ">=" "$(mbps "$openssl_64k")"
target "full handshake, initiator + responder" "$(figure .handshake.totalMedianMilliseconds)" "ms" "<" 2
target "ratchet message, encrypt + decrypt" "$(figure .ratchet.oneWayMedianMicroseconds)" "µs" "<" 20
echo
echo "  raw outputs: $results/cipherchat.json, $results/openssl.txt"
