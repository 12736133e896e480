#!/usr/bin/env bash
# Runs `cargo test` N times in a row while a CPU-heavy job keeps every core busy, and prints
# how many runs passed (and which tests failed in the others). The suite must pass every
# time: a test that fails here depends on timing.
#
#   benches/flaky.sh [N] [HOGS]     N runs (default 10); HOGS busy loops (default: one per core)
#
# The busy loops run at normal priority for the whole series and are stopped at the end
# (also on Ctrl-C). Logs of failed runs stay in target/flaky/.
set -u
cd "$(dirname "$0")/.."
N=${1:-10}
HOGS=${2:-$(nproc 2>/dev/null || echo 2)}
OUT=target/flaky
mkdir -p "$OUT"
echo "building the tests..."
cargo test --workspace --no-run -q >/dev/null 2>&1 || { echo "the tests do not build" >&2; exit 2; }
pids=()
stop() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; }
trap stop EXIT INT TERM
for _ in $(seq "$HOGS"); do
    sh -c 'while :; do :; done' &
    pids+=("$!")
done
pass=0
start=$(date +%s)
for i in $(seq "$N"); do
    t0=$(date +%s)
    if cargo test --workspace -q >"$OUT/run-$i.log" 2>&1; then
        pass=$((pass + 1))
        rm -f "$OUT/run-$i.log"
        echo "run $i: passed ($(( $(date +%s) - t0 )) s)"
    else
        failed=$(grep -E '^    [a-z_0-9:]+$|^test .* FAILED$' "$OUT/run-$i.log" | sed 's/^ *//; s/^test //; s/ \.\.\. FAILED$//' | sort -u | tr '\n' ' ')
        echo "run $i: FAILED ($(( $(date +%s) - t0 )) s): $failed (log: $OUT/run-$i.log)"
    fi
done
echo "passed $pass of $N runs of cargo test with $HOGS busy loop(s) on $(nproc) core(s) in $(( $(date +%s) - start )) s"
[ "$pass" -eq "$N" ]
