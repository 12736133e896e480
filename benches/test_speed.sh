#!/bin/sh
# Test-run speed on `impt sim`, before vs after: wall time of the eight library suites
# (benches/libraries.sh, same pass/total expected) and of one 20-test impUnit file. The
# library suites run on the sim's virtual time with a binary that has `impt test run
# --virtual-time` (IMPT_VIRTUAL_TIME=0: real time), in real time with an older one.
#
# Usage: benches/test_speed.sh [BEFORE_IMPT] [AFTER_IMPT]
#   BEFORE_IMPT: default /work/notes/impt-base-release (main before this work)
#   AFTER_IMPT:  default target/release/impt
#   IMPT_LIBS: the library clones (see benches/libraries.sh); SKIP_LIBS=1 times only the
#   20-test file; RUNS: runs of the 20-test file per binary (default 5, the median shown).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BEFORE=${1:-/work/notes/impt-base-release}
AFTER=${2:-$ROOT/target/release/impt}
RUNS=${RUNS:-5}
for b in "$BEFORE" "$AFTER"; do
    [ -x "$b" ] || { echo "no impt binary at $b" >&2; exit 2; }
done
now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc; }

# ----- a 20-test file -----
twenty() {
    IMPT=$1
    W=$(mktemp -d)
    (
        export HOME="$W/home"
        mkdir -p "$HOME"
        "$IMPT" sim --port 0 --devices 1 --no-outbound >"$W/sim.log" 2>&1 &
        SIM=$!
        trap 'kill $SIM 2>/dev/null' EXIT
        URL=
        i=0
        while [ $i -lt 100 ] && [ -z "$URL" ]; do
            URL=$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$W/sim.log" 2>/dev/null | head -n1)
            [ -z "$URL" ] && sleep 0.1
            i=$((i + 1))
        done
        cd "$W" || exit 2
        "$IMPT" auth login -u user -w password -e "$URL" -q >/dev/null || exit 2
        "$IMPT" product create -n P >/dev/null || exit 2
        "$IMPT" dg create -n G -p P >/dev/null || exit 2
        D=$("$IMPT" device list -z json | sed -n 's/.*"id": *"\([^"]*\)".*/\1/p' | head -n1)
        "$IMPT" device assign -d "$D" -g G -q >/dev/null || exit 2
        {
            echo "class Twenty extends ImpTestCase {"
            n=0
            while [ $n -lt 20 ]; do
                echo "  function test$n() { this.assertEqual($n, $n + 0); }"
                n=$((n + 1))
            done
            echo "}"
        } >twenty.test.nut
        "$IMPT" test create -g G -q >/dev/null || exit 2
        r=0
        while [ $r -lt "$RUNS" ]; do
            t0=$(now)
            "$IMPT" test run >run.log 2>&1 || { cat run.log >&2; exit 1; }
            t1=$(now)
            secs "$t0" "$t1"
            r=$((r + 1))
        done | sort -n | sed -n "$(((RUNS + 1) / 2))p"
    )
    rm -rf "$W"
}
b20=$(twenty "$BEFORE")
a20=$(twenty "$AFTER")
printf '20-test file (median of %s runs): before %.2f s, after %.2f s\n' "$RUNS" "$b20" "$a20"

# ----- the library suites -----
[ "${SKIP_LIBS:-0}" = 1 ] && exit 0
for which in before after; do
    if [ $which = before ]; then b=$BEFORE; else b=$AFTER; fi
    t0=$(now)
    IMPT=$b sh "$ROOT/benches/libraries.sh" >"/tmp/test_speed.$which.$$" 2>&1
    t1=$(now)
    eval "${which}_secs=$(secs "$t0" "$t1")"
    eval "${which}_total=\"$(sed -n 's/^TOTAL //p' "/tmp/test_speed.$which.$$")\""
    sed "s/^/$which: /" "/tmp/test_speed.$which.$$"
    rm -f "/tmp/test_speed.$which.$$"
done
printf 'libraries: before %.1f s (%s), after %.1f s (%s), ratio %.3f\n' \
    "$before_secs" "$before_total" "$after_secs" "$after_total" \
    "$(echo "$after_secs / $before_secs" | bc -l)"
