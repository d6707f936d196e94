#!/usr/bin/env bash
# Runs every benchmark program built in BUILD_DIR (bench_*), one after another.
set -euo pipefail
build=${1:-build}
shopt -s nullglob
progs=("$build"/bench/bench_*)
[ ${#progs[@]} -gt 0 ] || { echo "no benchmarks built in $build/bench"; exit 1; }
for p in "${progs[@]}"; do
  echo "== $(basename "$p")"
  "$p" --benchmark_min_time=0.2
done
