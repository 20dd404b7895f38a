#!/usr/bin/env bash
# Builds the fuzz targets of Fuzz/ with libFuzzer and AddressSanitizer and runs each for a bounded
# time, starting from its seed corpus (Fuzz/Corpus/TARGET, made from the protocol vectors by
# Fuzz/make-seeds.py). Fails if any target crashes, leaks, runs out of memory, hangs on one
# input, or does not fuzz at all; prints for each how many inputs it ran.
#
#     scripts/fuzz.sh [SECONDS] [TARGET...]
#
# SECONDS per target: the first argument, else $FUZZ_SECONDS, else 20. TARGETs: all by default.
# $FUZZ_CONFIGURATION picks the build: release by default, and it must be for fuzzing: Swift 6.3
# instruments Swift code for coverage only when it optimizes, so a debug build fuzzes blind (it
# serves to replay a crash with a readable stack trace). A release run fails if libFuzzer sees no
# coverage.
# What a run finds new goes to Fuzz/.corpus/TARGET and is used again by the next run; a crashing
# input is written to Fuzz/.artifacts/TARGET/ (both ignored by git). Replay one with
# `Fuzz/.build/release/TARGET FILE`; keep it as a regression test (docs/SECURITY.md, "How this
# is tested").
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-20}
if [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then
  seconds=$1
  shift
fi
configuration=${FUZZ_CONFIGURATION:-release}
all_targets=()
for dir in Fuzz/Sources/Fuzz*/; do
  name=$(basename "$dir")
  [ -f "$dir/main.swift" ] && all_targets+=("$name")
done
if [ $# -gt 0 ]; then targets=("$@"); else targets=("${all_targets[@]}"); fi

# SwiftPM's --sanitize=fuzzer links libFuzzer and instruments C code for coverage, but leaves
# Swift code uninstrumented in Swift 6.3: libFuzzer then sees only BoringSSL and fuzzes the
# Swift parsers blind. The coverage clang's -fsanitize=fuzzer gives is asked for explicitly.
coverage=edge,inline-8bit-counters,pc-table,trace-cmp
build=(swift build --package-path Fuzz -c "$configuration" --sanitize=fuzzer --sanitize=address
  -Xswiftc "-sanitize-coverage=$coverage")
echo "== fuzz: build ($configuration, libFuzzer and AddressSanitizer)"
start=$(date +%s)
"${build[@]}"
echo "fuzz build: $(( $(date +%s) - start )) s"
bin=$("${build[@]}" --show-bin-path)

failed=()
for target in "${targets[@]}"; do
  [ -x "$bin/$target" ] || { echo "fuzz: no target $target (have: ${all_targets[*]})" >&2; failed+=("$target"); continue; }
  corpus=Fuzz/.corpus/$target
  artifacts=Fuzz/.artifacts/$target/
  log=Fuzz/.artifacts/$target.log
  mkdir -p "$corpus" "$artifacts"
  # New inputs go to the first directory; the committed seeds are only read. The outer timeout
  # bounds a run whose fuzzer would not stop (its setup included); -timeout bounds one input.
  status=0
  timeout --kill-after=10 $(( seconds + 120 )) "$bin/$target" \
    -max_total_time="$seconds" -timeout=20 -rss_limit_mb=3072 -print_final_stats=1 \
    -artifact_prefix="$artifacts" "$corpus" "Fuzz/Corpus/$target" >"$log" 2>&1 || status=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  size=$(find "$corpus" -type f | wc -l)
  if ! grep -q '^INFO: Seed:' "$log"; then
    echo "$target: FAILED: it did not start fuzzing (exit $status); the end of $log:"
    tail -n 20 "$log"
    failed+=("$target")
  elif [ "$status" -ne 0 ] || [ -z "$runs" ]; then
    runs=${runs:-$(grep -o '^#[0-9]*' "$log" | tail -n 1 | tr -d '#')}
    echo "$target: FAILED (exit $status) after ${runs:-?} runs; the input is in $artifacts; the end of $log:"
    grep -v '^#' "$log" | tail -n 40
    failed+=("$target")
  elif [ "$configuration" = release ] && ! grep -q 'INITED cov: [1-9]' "$log"; then
    echo "$target: FAILED: libFuzzer saw no coverage, so it fuzzed blind; the start of $log:"
    head -n 20 "$log"
    failed+=("$target")
  else
    echo "$target: ${runs} runs in ${seconds} s, no crash ($size inputs in $corpus)"
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} targets, ${seconds} s each, no crash"
