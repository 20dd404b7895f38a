#!/usr/bin/env bash
# The test suite on a fresh machine: installs what the tests drive (on Debian or Ubuntu, as root
# or with sudo: PostgreSQL, HAProxy, Prometheus's promtool, tmux, openssl, SQLite's headers and shell, and
# Python's cryptography for the independent check of the protocol vectors), checks the layering
# and the vectors, builds with the explicit target-dependency import check, then runs
# `swift test`, then every fuzz target for 20 s (scripts/fuzz.sh). Elsewhere it installs
# nothing, and the tests whose tool is missing are reported as skipped, with the reason.
# Arguments go to `swift test` (and skip the fuzzing).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

install_packages() {
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null && sudo -n true 2>/dev/null || {
      echo "test.sh: not root and no password-less sudo: not installing $*; their tests will be skipped" >&2
      return 0
    }
    sudo=(sudo -n)
  fi
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq "$@" >/dev/null
}

if command -v apt-get >/dev/null; then
  need=()
  command -v openssl >/dev/null || need+=(openssl)
  command -v python3 >/dev/null || need+=(python3 python3-pip)
  [ -x /usr/bin/tmux ] || need+=(tmux)
  dpkg -s libsqlite3-dev >/dev/null 2>&1 || need+=(libsqlite3-dev)
  [ -x /usr/bin/sqlite3 ] || need+=(sqlite3)
  [ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql)
  [ -x /usr/sbin/haproxy ] || need+=(haproxy)
  [ -x /usr/bin/promtool ] || need+=(prometheus)
  if [ ${#need[@]} -gt 0 ]; then install_packages "${need[@]}"; fi
fi

echo "== layering"
scripts/check-layering.sh

echo "== protocol vectors, from the specification alone"
# The independent Python implementation needs cryptography 44 or later (for ML-KEM).
if ! python3 -c 'import cryptography.hazmat.primitives.asymmetric.mlkem' 2>/dev/null; then
  python3 -m pip install --quiet 'cryptography>=44' 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages 'cryptography>=44' \
    || echo "test.sh: cannot install Python's cryptography 44; skipping the independent vector check" >&2
fi
if python3 -c 'import cryptography.hazmat.primitives.asymmetric.mlkem' 2>/dev/null; then
  python3 scripts/check-vectors.py
fi

echo "== build, with the explicit target-dependency import check"
swift build --build-tests --explicit-target-dependency-import-check error

echo "== tests"
# The end-to-end tests start relays, databases, HAProxy and clients as processes of their own.
# Run all at once on a small machine, hundreds of them share two cores and every wait stretches;
# a few tests at a time per core keeps the whole run shorter and each wait honest.
width=$(( $(nproc) * 4 ))
swift test --experimental-maximum-parallelization-width "$width" "$@"

echo "== the relay benchmark still runs, beside the original design where it is present"
# A smoke test of a few seconds of load on the debug build: whether the bench runs, not how fast
# (docs/BENCHMARKS-RELAY.md has the figures, from a release build on a quiet machine).
python3 scripts/bench-side-by-side.py --quick --pairs 10 --timeout 600 \
  --bench "$(swift build --show-bin-path)/cipherchat-bench"

echo "== fuzzing: every fuzz target of Fuzz/ for ${FUZZ_SECONDS:-20} s"
# After the suite, so that a failure of the fuzzers' own build (libFuzzer and AddressSanitizer,
# in Fuzz/.build: the first one takes as long as the package's release build) shows as itself.
# Skipped for a run of some tests only (arguments for `swift test`) and with FUZZ_SECONDS=0.
if [ $# -eq 0 ] && [ "${FUZZ_SECONDS:-20}" != 0 ]; then
  scripts/fuzz.sh "${FUZZ_SECONDS:-20}"
fi
