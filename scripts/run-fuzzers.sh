#!/usr/bin/env bash
# Runs every libFuzzer target in BUILD_DIR/fuzz for a bounded time and fails on the first crash.
#   scripts/run-fuzzers.sh BUILD_DIR            (FUZZ_SECONDS=60 by default, per fuzzer)
# A fuzzer NAME_..._fuzz starts from the seed corpus fuzz/corpus/NAME/ and uses the dictionary
# fuzz/NAME.dict when there is one. New inputs go to BUILD_DIR/fuzz-corpus/, crash reproducers
# to BUILD_DIR/fuzz-artifacts/; the seed corpus in the repository is never written.
set -euo pipefail

build=${1:?usage: $0 BUILD_DIR}
seconds=${FUZZ_SECONDS:-60}
root=$(cd "$(dirname "$0")/.." && pwd)

shopt -s nullglob
fuzzers=("$build"/fuzz/*_fuzz)
if [ ${#fuzzers[@]} -eq 0 ]; then
  echo "no fuzzers in $build/fuzz (configure with -DANE_FUZZ=ON and build first)" >&2
  exit 1
fi

failed=0
for fuzzer in "${fuzzers[@]}"; do
  name=$(basename "$fuzzer")
  family=${name%%_*}
  work="$build/fuzz-corpus/$name"
  artifacts="$build/fuzz-artifacts/$name/"
  mkdir -p "$work" "$artifacts"
  # Inputs are a few KB: an allocation of hundreds of MB is a reader trusting a size field.
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=256 -artifact_prefix="$artifacts"
        -print_final_stats=1)
  [ -f "$root/fuzz/$family.dict" ] && args+=(-dict="$root/fuzz/$family.dict")
  seeds=()
  [ -d "$root/fuzz/corpus/$family" ] && seeds+=("$root/fuzz/corpus/$family")
  echo "== $name: ${seconds}s"
  if ! "$fuzzer" "${args[@]}" "$work" "${seeds[@]}"; then
    echo "FAILED: $name (reproducer in $artifacts)" >&2
    failed=1
  fi
done
exit $failed
