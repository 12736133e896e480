#!/bin/sh
# Runs Electric Imp's own libraries' impUnit suites with `impt test run` on `impt sim` and
# prints "LIB pass/total" per library (tests counted as test methods, from the run's
# `--report json`; the methods of a file whose session never starts count as not passed).
#
# The libraries are NOT part of this repository: clone them yourself, e.g.
#   for n in Promise JSONEncoder Serializer Rocky Scheduler MessageManager ConnectionManager \
#            SPIFlashFileSystem Messenger_ReplayMessenger SpiFlashLogger; do
#       git clone https://github.com/electricimp/$n $IMPT_LIBS/$n; done
# (Messenger_ReplayMessenger, reliable messaging with resend on reconnection, includes
# SpiFlashLogger; ConnectionManager's real-Wi-Fi case cannot pass on a simulator.)
# Usage: benches/libraries.sh [LIB...]   (IMPT_LIBS: folder of the clones, default
# /work/peers/libs; IMPT: the impt binary, default target/debug/impt; IMPT_TIME_SCALE: the
# sim's --time-scale, default 1; KEEP=1 keeps the work folder and logs; IMPT_VIRTUAL_TIME=0
# runs the suites in real time: by default they run on the sim's virtual time, `impt test run
# --virtual-time`, when the binary has that option).
# Each line also gives the library's wall time in seconds.
# Exits 0 when every library passes all its tests, 1 otherwise, 2 when nothing could run.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LIBS=${IMPT_LIBS:-/work/peers/libs}
IMPT=${IMPT:-$ROOT/target/debug/impt}
SCALE=${IMPT_TIME_SCALE:-1}
[ -d "$LIBS" ] || { echo "no libraries at $LIBS (set IMPT_LIBS)" >&2; exit 2; }
[ -x "$IMPT" ] || { echo "no impt binary at $IMPT (cargo build first)" >&2; exit 2; }
if [ $# -eq 0 ]; then
    set -- Promise JSONEncoder Serializer Rocky Scheduler MessageManager ConnectionManager SPIFlashFileSystem \
        Messenger_ReplayMessenger
fi

WORK=$(mktemp -d)
SIM_PID=
cleanup() {
    [ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null
    if [ "${KEEP:-0}" = 1 ]; then echo "work folder: $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT INT TERM

export HOME="$WORK/home"
mkdir -p "$HOME"
"$IMPT" sim --port 0 --devices 1 --no-outbound --device-boot-delay 3 --time-scale "$SCALE" >"$WORK/sim.log" 2>&1 &
SIM_PID=$!
URL=
i=0
while [ $i -lt 100 ] && [ -z "$URL" ]; do
    URL=$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$WORK/sim.log" 2>/dev/null | head -n1)
    [ -z "$URL" ] && sleep 0.1
    i=$((i + 1))
done
[ -n "$URL" ] || { echo "sim did not start:" >&2; cat "$WORK/sim.log" >&2; exit 2; }

cd "$WORK" || exit 2
"$IMPT" auth login -u user -w password -e "$URL" -q >/dev/null || exit 2
"$IMPT" product create -n libs >/dev/null || exit 2
DEVICE=$("$IMPT" device list -z json | sed -n 's/.*"id": *"\([^"]*\)".*/\1/p' | head -n1)
[ -n "$DEVICE" ] || { echo "no virtual device" >&2; exit 2; }

# Virtual time (timers and the boot delay jump ahead while all code is idle) when the binary
# offers it; an older binary runs in real time.
VT=
if [ "${IMPT_VIRTUAL_TIME:-1}" = 1 ] && "$IMPT" test run --help 2>/dev/null | grep -q -- --virtual-time; then
    VT=--virtual-time
fi
now() { date +%s.%N; }

all_ok=0
total_pass=0
total_tests=0
for lib in "$@"; do
    src="$LIBS/$lib"
    if [ ! -d "$src" ]; then echo "$lib: not found in $LIBS"; all_ok=1; continue; fi
    dir="$WORK/$lib"
    t0=$(now)
    mkdir -p "$dir"
    (cd "$src" && tar cf - --exclude=.git .) | (cd "$dir" && tar xf -)
    (
        cd "$dir" || exit 1
        "$IMPT" dg create -n "dg-$lib" -p libs >/dev/null || exit 1
        "$IMPT" device assign -d "$DEVICE" -g "dg-$lib" -q >/dev/null || exit 1
        cfg=.impt.test
        [ -f "$cfg" ] || cfg=.imptest
        if [ -f "$cfg" ]; then
            # Point the suite's own configuration at the simulator's Device Group.
            dg=$("$IMPT" dg info -g "dg-$lib" -z json | sed -n 's/.*"id": *"\([^"]*\)".*/\1/p' | head -n1)
            sed "s/\"deviceGroupId\"[^,]*,/\"deviceGroupId\": \"$dg\",/; /\"deviceGroupName\"/d" "$cfg" >.impt.test.new
            mv .impt.test.new .impt.test
            [ "$cfg" = .imptest ] && rm -f .imptest
            # GitHub includes of Electric Imp's other libraries come from the local clones
            # (through the Builder cache): no internet needed.
            incs=$(grep -rhoE '@include "github:electricimp/[A-Za-z]+/[^"]+"' tests 2>/dev/null |
                sed 's/@include "github://; s/"$//' | sort -u)
            if [ -n "$incs" ]; then
                for inc in $incs; do
                    repo=$(echo "$inc" | cut -d/ -f2)
                    file=$(echo "$inc" | cut -d/ -f3-)
                    # A pinned version (FILE@vX.Y.Z) is served from the clone as it is.
                    plain=${file%%@*}
                    if [ -f "$LIBS/$repo/$plain" ]; then
                        mkdir -p .builder-cache
                        cp "$LIBS/$repo/$plain" ".builder-cache/github#$(echo "$inc" | tr / -)"
                    fi
                done
                sed 's/"builderCache"[^,]*,/"builderCache": true,/' .impt.test >.impt.test.new
                mv .impt.test.new .impt.test
            fi
        else
            "$IMPT" test create --dg "dg-$lib" -q >/dev/null || exit 1
        fi
        "$IMPT" test run $VT --report json "$WORK/$lib.json" >"$WORK/$lib.log" 2>&1
        exit 0
    ) || { echo "$lib: setup failed"; all_ok=1; continue; }
    # Counted by the run's JSON report: test methods (not setUp/tearDown), including those
    # of sessions that never started.
    pass=$(sed -n 's/^  "passed": *\([0-9]*\).*/\1/p' "$WORK/$lib.json" 2>/dev/null)
    tests=$(sed -n 's/^  "tests": *\([0-9]*\).*/\1/p' "$WORK/$lib.json" 2>/dev/null)
    pass=${pass:-0}
    tests=${tests:-0}
    printf '%s %s/%s %.1fs\n' "$lib" "$pass" "$tests" "$(echo "$(now) - $t0" | bc)"
    total_pass=$((total_pass + pass))
    total_tests=$((total_tests + tests))
    [ "$pass" -eq "$tests" ] && [ "$tests" -gt 0 ] || all_ok=1
done
echo "TOTAL $total_pass/$total_tests"
exit $all_ok
