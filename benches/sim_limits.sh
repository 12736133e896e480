#!/bin/sh
# Attacks on `impt sim` by one account's code, and what they cost everyone else: for each
# attack, the API latency another account sees meanwhile (p50/p99/max over sequential
# GET /v5/products) and the sim's peak memory (RSS), open file descriptors and threads.
#
#   flood     the agent starts 4,000 sendasync requests to a host that never answers
#   endless   the agent fetches a response body that never ends
#   bigmsg    the device sends 250 KB messages to its agent in a loop
#   ownurl    the agent's request handler posts twice to its own URL for each request
#   native    three devices sort and reverse a 200,000-element array forever (natives)
#
# Then each attack's code is replaced: new code is deployed and the group restarted (the
# API's restart), and a second line says how long after the restart request the new code
# ran on every device (from the log lines' own timestamps, so no polling delay; the old code
# had stopped by then; this includes the boot sequence's three status-line steps,
# `--boot-step-ms`, 5 ms each by default) and how many agent requests were under way then.
#
# Usage: benches/sim_limits.sh [ATTACK...]   (IMPT: the impt binary, default
# target/debug/impt — run it with an older binary for "before" figures; DURATION: seconds
# per attack, default 8; MAX_RSS_MB: the sim is killed above this, default 1500).
# Needs python3 (the silent and the endless servers) and curl. Prints one line per attack.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
IMPT=${IMPT:-$ROOT/target/debug/impt}
DURATION=${DURATION:-8}
MAX_RSS_MB=${MAX_RSS_MB:-1500}
[ -x "$IMPT" ] || { echo "no impt binary at $IMPT" >&2; exit 2; }
[ $# -eq 0 ] && set -- flood endless bigmsg ownurl native

WORK=$(mktemp -d)
PIDS=
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM
export HOME="$WORK/home"
mkdir -p "$HOME"

# Two loopback servers: one that accepts and never answers, one whose body never ends.
cat >"$WORK/servers.py" <<'EOF'
import socket, sys, threading
def serve(port_file, endless):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0)); s.listen(1024)
    open(port_file, "w").write(str(s.getsockname()[1]))
    held = []
    while True:
        c, _ = s.accept()
        if not endless:
            held.append(c); continue
        def stream(c):
            try:
                c.recv(4096)
                c.sendall(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
                chunk = b"%x\r\n" % 65536 + b"x" * 65536 + b"\r\n"
                while True: c.sendall(chunk)
            except OSError:
                pass
        threading.Thread(target=stream, args=(c,), daemon=True).start()
threading.Thread(target=serve, args=(sys.argv[1], False), daemon=True).start()
serve(sys.argv[2], True)
EOF
python3 "$WORK/servers.py" "$WORK/silent.port" "$WORK/endless.port" &
PIDS="$PIDS $!"
i=0
while [ $i -lt 100 ] && ! { [ -s "$WORK/silent.port" ] && [ -s "$WORK/endless.port" ]; }; do
    sleep 0.1
    i=$((i + 1))
done

start_sim() {
    "$IMPT" sim --port 0 --devices "${1:-1}" --account a:pa --account b:pb >"$WORK/sim.log" 2>&1 &
    SIM=$!
    PIDS="$PIDS $SIM"
    URL=
    i=0
    while [ $i -lt 100 ] && [ -z "$URL" ]; do
        URL=$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$WORK/sim.log" | head -n1)
        [ -z "$URL" ] && sleep 0.1
        i=$((i + 1))
    done
    [ -n "$URL" ] || { echo "sim did not start" >&2; cat "$WORK/sim.log" >&2; exit 2; }
    ROOTURL=${URL%/v5}
}

token() {
    curl -s -X POST -H 'content-type: application/json' -d "{\"id\":\"$1\",\"password\":\"$2\"}" \
        "$URL/auth" | sed -n 's/.*"access_token": *"\([^"]*\)".*/\1/p'
}

# Replaces account a's code in group G and restarts the group; prints how long until the new
# code ran on every device of the group.
cat >"$WORK/redeploy.py" <<'PY'
import json, sys, time, urllib.request
from datetime import datetime
url, root = sys.argv[1], sys.argv[2]
def req(method, path, body=None, token=None, base=url):
    r = urllib.request.Request(base + path, method=method,
                               data=json.dumps(body).encode() if body is not None else None)
    r.add_header("content-type", "application/vnd.api+json")
    if token:
        r.add_header("authorization", "Bearer " + token)
    with urllib.request.urlopen(r, timeout=30) as resp:
        b = resp.read()
        return json.loads(b) if b else None
tok = req("POST", "/auth", {"id": "a", "password": "pa"})["access_token"]
g = [x for x in req("GET", "/devicegroups", token=tok)["data"] if x["attributes"]["name"] == "G"][0]
devs = [d["id"] for d in req("GET", "/devices", token=tok)["data"]
        if (d["relationships"].get("devicegroup") or {}).get("id") == g["id"]]
req("POST", "/deployments", {"data": {"type": "deployment",
    "attributes": {"device_code": 'server.log("v2 device");', "agent_code": 'server.log("v2 agent");'},
    "relationships": {"devicegroup": {"type": g["type"], "id": g["id"]}}}}, token=tok)
t0 = time.time()
req("POST", "/devicegroups/%s/restart" % g["id"], token=tok)
def first(d, needle):
    for e in reversed(req("GET", "/devices/%s/logs?page[size]=100" % d, token=tok)["data"]):
        if needle in e["msg"]:
            return datetime.fromisoformat(e["ts"].replace("Z", "+00:00")).timestamp()
took, left = [], set(devs)
while left and time.time() - t0 < 20:
    for d in list(left):
        t = first(d, "v2 device")
        if t is not None:
            took.append((t - t0) * 1000)
            left.discard(d)
    time.sleep(0.05)
stats = req("GET", "/_sim/stats", base=root)
if left:
    print("new code not running on %d of %d devices after 20 s" % (len(left), len(devs)))
else:
    print("new code running on %d device(s) %.0f ms after the restart (slowest); agent requests under way then %s"
          % (len(devs), max(took), stats.get("agent_http_in_flight")))
PY

# One attack: deploy its code for account a, then measure for DURATION seconds.
attack() {
    name=$1
    silent=$(cat "$WORK/silent.port")
    endless=$(cat "$WORK/endless.port")
    dev=""
    agent=""
    devices=1
    case $name in
    flood) agent="for (local i = 0; i < 4000; i++) http.get(\"http://127.0.0.1:$silent/\").sendasync(function(r) {}, null, 600);" ;;
    endless) agent="for (local i = 0; i < 4; i++) http.get(\"http://127.0.0.1:$endless/\").sendasync(function(r) { server.log(\"endless \" + r.statuscode); });" ;;
    bigmsg) dev="local b = blob(250 * 1024); function go() { agent.send(\"m\", b); imp.wakeup(0, go); } go();"
        agent="device.on(\"m\", function(d) {});" ;;
    ownurl) agent="http.onrequest(function(req, res) { res.send(200, \"ok\"); for (local i = 0; i < 2; i++) http.post(http.agenturl(), {}, \"x\").sendasync(function(r) {}); }); http.post(http.agenturl(), {}, \"go\").sendasync(function(r) {});" ;;
    native) dev="local a = array(200000, 1); while (true) { a.sort(); a.reverse(); }"
        devices=3 ;;
    *) echo "unknown attack $name" >&2; return ;;
    esac
    start_sim "$devices"
    dir="$WORK/$name"
    mkdir -p "$dir"
    printf '%s\n' "$dev" >"$dir/device.nut"
    printf '%s\n' "$agent" >"$dir/agent.nut"
    (
        cd "$dir" || exit 1
        "$IMPT" auth login -u a -w pa -e "$URL" -q >/dev/null || exit 1
        "$IMPT" product create -n P >/dev/null || exit 1
        "$IMPT" dg create -n G -p P >/dev/null || exit 1
        "$IMPT" build deploy -g G -x device.nut -y agent.nut >/dev/null || exit 1
        for d in $("$IMPT" device list -z json | sed -n 's/.*"id": *"\([^"]*\)".*/\1/p'); do
            "$IMPT" device assign -d "$d" -g G -q >/dev/null || exit 1
        done
    ) 2>"$dir/setup.err" || {
        echo "$name: setup failed: $(tail -n 3 "$dir/setup.err" | tr '\n' ' ')" >&2
        kill "$SIM"
        return
    }
    tb=$(token b pb)
    : >"$dir/lat"
    peak_rss=0
    peak_fd=0
    peak_thr=0
    end=$(($(date +%s) + DURATION))
    killed=""
    while [ "$(date +%s)" -lt "$end" ]; do
        t=$(curl -s -o /dev/null -m 10 -w '%{time_total}' -H "authorization: Bearer $tb" "$URL/products")
        echo "$t" >>"$dir/lat"
        rss=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' /proc/$SIM/status 2>/dev/null)
        thr=$(sed -n 's/^Threads:[[:space:]]*\([0-9]*\).*/\1/p' /proc/$SIM/status 2>/dev/null)
        fd=$(ls /proc/$SIM/fd 2>/dev/null | wc -l)
        [ -n "$rss" ] && [ "$rss" -gt "$peak_rss" ] && peak_rss=$rss
        [ -n "$thr" ] && [ "$thr" -gt "$peak_thr" ] && peak_thr=$thr
        [ "$fd" -gt "$peak_fd" ] && peak_fd=$fd
        if [ -n "$rss" ] && [ "$rss" -gt $((MAX_RSS_MB * 1024)) ]; then
            killed=" (sim killed above ${MAX_RSS_MB} MB)"
            break
        fi
        sleep 0.05
    done
    inflight=$(curl -s -m 5 "$ROOTURL/_sim/stats" | sed -n 's/.*"agent_http_in_flight": *\([0-9]*\).*/\1/p')
    redeploy=$(python3 "$WORK/redeploy.py" "$URL" "$ROOTURL" 2>&1 | tail -n1)
    kill "$SIM" 2>/dev/null
    wait "$SIM" 2>/dev/null
    sort -n "$dir/lat" | awk -v name="$name" -v rss="$peak_rss" -v fd="$peak_fd" -v thr="$peak_thr" \
        -v inflight="${inflight:--}" -v killed="$killed" -v redeploy="$redeploy" '
        { v[NR] = $1 * 1000 }
        END {
            n = NR; if (n == 0) { print name ": no answers"; exit }
            p50 = v[int((n - 1) * 0.50) + 1]; p99 = v[int((n - 1) * 0.99) + 1]
            printf "%-8s other account API: n=%d p50=%.1f ms p99=%.1f ms max=%.1f ms; sim peak RSS %.0f MB, fds %d, threads %d, agent requests under way %s%s\n",
                name, n, p50, p99, v[n], rss / 1024, fd, thr, inflight, killed
            printf "%-8s redeploy + restart: %s\n", name, redeploy
        }'
}

for a in "$@"; do
    attack "$a"
done
