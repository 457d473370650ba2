#!/usr/bin/env bash
# Runs every fuzz target (flow checker and each file reader) for FUZZ_SECONDS (default 15)
# and fails on the first crash. cargo-fuzz needs nightly features; RUSTC_BOOTSTRAP=1 lets the
# machine's stable toolchain build them. The first build takes several minutes (sqlx is
# compiled with sanitizer flags); later runs reuse fuzz/target.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs="${FUZZ_SECONDS:-15}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --version 0.13.2
export RUSTC_BOOTSTRAP=1
for target in $(cargo fuzz list); do
  echo "fuzzing $target for ${secs}s" >&2
  cargo fuzz run -O "$target" -- -max_total_time="$secs" -rss_limit_mb=2048
done
