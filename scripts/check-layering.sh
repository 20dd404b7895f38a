#!/usr/bin/env bash
# Fails when the pure core reaches outside its layer (docs/ARCHITECTURE.md): CipherCore and
# CipherWire may import only what is listed here, and may not touch files, sockets, the wall
# clock or a global random generator. SwiftPM's --explicit-target-dependency-import-check
# catches undeclared imports between targets; this catches declared-but-forbidden ones.
set -euo pipefail
cd "$(dirname "$0")/.."

status=0
allowed='^(Foundation|FoundationEssentials|Crypto|_CryptoExtras|SwiftProtobuf|CipherWire)$'
for target in CipherCore CipherWire; do
  while IFS=: read -r file line module; do
    if ! [[ "$module" =~ $allowed ]]; then
      echo "layering: $file:$line imports $module, which $target may not use" >&2
      status=1
    fi
  done < <(grep -rnE '^\s*(@testable\s+)?import\s+' "Sources/$target" |
           sed -E 's/^([^:]+):([0-9]+):\s*(@testable\s+)?import\s+(struct\s+|class\s+|enum\s+|func\s+)?([A-Za-z_]+).*/\1:\2:\5/')
done

# Ambient I/O, clocks and randomness. SystemRandomSource is the one place the core names the
# system generator, as a value the caller chooses to pass in.
forbidden='FileManager|FileHandle|fopen\(|URLSession|Socket|Date\(\)|\.now\b|ContinuousClock|SuspendingClock|ProcessInfo|getenv|arc4random'
# grep -n prints "file:line:text"; comments (text starting with //) may name these freely.
if grep -rnE "$forbidden" Sources/CipherCore Sources/CipherWire --include=*.swift | grep -vE '^[^:]+:[0-9]+:\s*//' ; then
  echo "layering: the core must take I/O, time and randomness as inputs (see above)" >&2
  status=1
fi
if grep -rn 'SystemRandomNumberGenerator' Sources/CipherCore | grep -v 'Support/RandomSource.swift' ; then
  echo "layering: only SystemRandomSource may use the system generator" >&2
  status=1
fi
[ "$status" -eq 0 ] && echo "layering: CipherCore and CipherWire import only what they may"
exit "$status"
