#!/usr/bin/env bash
# Figures of `impt sim` under hostile load (issue: the simulator holds under hostile input):
#  1. RSS of the sim while 16 emitters flood 1.6 M log lines of 4 KB to a subscribed log
#     stream whose reader is connected but stopped (SIGSTOP), and to one never connected.
#  2. Acknowledged creates per second with and without --state (write-through, fsync'd).
# Usage: benches/sim_hostile.sh [LINES_PER_EMITTER (default 100000)] [CREATES (default 300)]
set -euo pipefail
cd "$(dirname "$0")/.."
LINES=${1:-100000}
CREATES=${2:-300}
cargo build --release --quiet
BIN=$PWD/target/release/impt
TMP=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -CONT $p 2>/dev/null; kill $p 2>/dev/null || true; done; rm -rf "$TMP"' EXIT

start_sim() {  # name, args...
  local name=$1; shift
  "$BIN" sim --port 0 --devices 2 --streams-per-account 2 "$@" >"$TMP/$name.out" 2>/dev/null &
  SIM=$!
  PIDS+=($SIM)
  for _ in $(seq 1 100); do grep -q listening "$TMP/$name.out" 2>/dev/null && break; sleep 0.05; done
  URL=$(head -1 "$TMP/$name.out" | awk '{print $NF}')
  ROOT=${URL%/v5}
  TOKEN=$(curl -s -XPOST "$URL/auth" -H 'content-type: application/json' \
    -d '{"id":"user","password":"password"}' | python3 -c 'import sys,json;print(json.load(sys.stdin)["access_token"])')
}
rss() { awk '/VmRSS/ {print int($2/1024) " MB"}' /proc/$SIM/status; }
hwm() { awk '/VmHWM/ {print int($2/1024) " MB"}' /proc/$SIM/status; }
api() { curl -s -H "authorization: Bearer $TOKEN" -H 'content-type: application/vnd.api+json' "$@"; }
id_of() { python3 -c 'import sys,json;print(json.load(sys.stdin)["data"]["id"])'; }

start_sim flood
DEVS=($(api "$URL/devices" | python3 -c 'import sys,json;[print(d["id"]) for d in json.load(sys.stdin)["data"]]'))
echo "log flood: RSS at start $(rss)"
# A stream with a connected reader that stops reading, and one never connected.
S1=$(api -XPOST "$URL/logstream" | id_of)
curl -s -N -H "authorization: Bearer $TOKEN" "$URL/logstream/$S1" >/dev/null &
READER=$!; PIDS+=($READER)
sleep 0.3; kill -STOP $READER
S2=$(api -XPOST "$URL/logstream" | id_of)
for s in $S1 $S2; do for d in "${DEVS[@]}"; do api -XPUT "$URL/logstream/$s/$d" >/dev/null; done; done
MSG=$(python3 -c 'print("x" * 4096)')
T0=$(date +%s)
for i in $(seq 1 16); do
  d=${DEVS[$((i % 2))]}
  curl -s -XPOST "$ROOT/_sim/devices/$d/logs" -H 'content-type: application/json' \
    -d "{\"count\": $LINES, \"message\": \"{i} $MSG\"}" >/dev/null
done
# Wait until the emitters are done: no new line for 2 s on either device.
newest() { for d in "${DEVS[@]}"; do x=$(api "$URL/devices/$d/logs?page%5Bsize%5D=1"); echo "${x:0:200}"; done; }
LAST=""; while true; do NOW=$(newest); [ "$NOW" = "$LAST" ] && break; LAST=$NOW; sleep 2; done
echo "log flood: $((16 * LINES)) lines of 4 KB in $(( $(date +%s) - T0 )) s; RSS now $(rss), peak $(hwm)"
kill -CONT $READER; kill $READER 2>/dev/null || true
kill $SIM

create_rate() {  # label, sim args...
  local label=$1; shift
  start_sim "$label" "$@"
  python3 - "$URL" "$TOKEN" "$CREATES" "$label" <<'PY'
import http.client, json, sys, time, urllib.parse
url, token, n, label = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
u = urllib.parse.urlparse(url)
c = http.client.HTTPConnection(u.hostname, u.port)
h = {"authorization": "Bearer " + token, "content-type": "application/vnd.api+json"}
t = time.time()
for i in range(n):
    body = json.dumps({"data": {"type": "product", "attributes": {"name": "p%d" % i}}})
    c.request("POST", u.path + "/products", body, h)
    r = c.getresponse(); r.read()
    assert r.status == 201, r.status
dt = time.time() - t
print("%-22s %d creates in %.2f s: %.0f/s, %.2f ms each" % (label, n, dt, n / dt, dt * 1000 / n))
PY
  kill $SIM
}
create_rate "memory only"
create_rate "--state (fsync'd)" --state "$TMP/state.json"
