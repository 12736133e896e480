#!/usr/bin/env bash
# CLI figures: start-up time of `impt --help` and the round trip of `impt product list`
# against a local `impt sim`. Prints mean and p95 in milliseconds. Usage: benches/cli.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-50}
cargo build --release --quiet
BIN=$PWD/target/release/impt
TMP=$(mktemp -d)
trap 'kill $SIM 2>/dev/null || true; rm -rf "$TMP"' EXIT
"$BIN" sim --port 0 >"$TMP/sim.out" 2>/dev/null &
SIM=$!
for _ in $(seq 1 100); do grep -q listening "$TMP/sim.out" 2>/dev/null && break; sleep 0.05; done
URL=$(head -1 "$TMP/sim.out" | awk '{print $NF}')
export HOME=$TMP
cd "$TMP"
"$BIN" auth login -u user -w password -e "$URL" >/dev/null
for i in 1 2 3 4 5; do "$BIN" product create -n "BenchP$i" >/dev/null; done

measure() {  # label, command...
  local label=$1; shift
  local times=()
  for _ in $(seq 1 "$N"); do
    local t0 t1
    t0=$(date +%s%N); "$@" >/dev/null; t1=$(date +%s%N)
    times+=($(( (t1 - t0) / 1000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk -v label="$label" '
    { v[NR] = $1; s += $1 }
    END { p95 = v[int(NR * 0.95 + 0.5)]; printf "%-28s n=%d mean=%.2f ms p95=%.2f ms\n", label, NR, s / NR / 1000, p95 / 1000 }'
}
measure "impt --help" "$BIN" --help
measure "impt product list (sim)" "$BIN" product list
