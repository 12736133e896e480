#!/usr/bin/env bash
# How `impt sim` runs the devices' code at scale and under attack (issues 23 item 4, 27 item 2):
#  1. N idle virtual devices running code (a timer an hour away, an agent handler; then
#     1,000 whose code also drives a pin, so their `hardware` object is built): RSS,
#     threads, boot time, and the API's latency (GET /v5/products, p50/p99/max) while they boot;
#  2. 1,000 devices each logging once a second: the API's latency over 15 s;
#  3. "native-heavy loop on 3 devices" (sort/reverse of a 200,000-element array forever):
#     another account's API latency before and during the attack, then the time from a
#     redeploy + restart until the new code runs on all three (the old code stopped), and the
#     time an unassignment takes to free the workers.
#  4. Virtual time: a device waiting an hour (imp.wakeup(3600)) under --virtual-time.
# Usage: benches/sim_scale_devices.sh                (this tree's release build)
#        BEFORE=/path/to/old/impt benches/sim_scale_devices.sh   (the same figures for both)
#        IDLE=10000 IDLE_BEFORE=1000 LOGGERS=1000 benches/sim_scale_devices.sh
set -euo pipefail
cd "$(dirname "$0")/.."
IDLE=${IDLE:-10000}
IDLE_BEFORE=${IDLE_BEFORE:-1000}
LOGGERS=${LOGGERS:-1000}
if [ -z "${BIN:-}" ]; then cargo build --release --quiet; BIN=$PWD/target/release/impt; fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cat > "$TMP/bench.py" <<'PY'
import json, subprocess, sys, threading, time, urllib.request, http.client, urllib.parse

class Sim:
    def __init__(self, binary, args):
        self.p = subprocess.Popen([binary, "sim", "--port", "0"] + args, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True)
        self.url = self.p.stdout.readline().split()[-1]
        self.root = self.url[:-3]
        threading.Thread(target=lambda: [None for _ in self.p.stdout], daemon=True).start()
        self.token = self.login("user", "password")
    def login(self, user, pw):
        return self.req("POST", "/auth", {"id": user, "password": pw}, token=None)["access_token"]
    def req(self, method, path, body=None, token="default", root=False, timeout=120):
        url = (self.root if root else self.url) + path
        data = json.dumps(body).encode() if body is not None else None
        r = urllib.request.Request(url, data=data, method=method)
        r.add_header("content-type", "application/json" if root or token is None else "application/vnd.api+json")
        if token is not None and not root:
            r.add_header("authorization", "Bearer " + (self.token if token == "default" else token))
        with urllib.request.urlopen(r, timeout=timeout) as resp:
            b = resp.read()
            return json.loads(b) if b else None
    def devices(self, account=None):
        return [d["id"] for d in self.req("GET", "/_sim/devices", root=True)
                if account is None or d["account"] == account]
    def product(self, name, token="default"):
        return self.req("POST", "/products", {"data": {"type": "product", "attributes": {"name": name}}}, token=token)["data"]["id"]
    def group(self, prod, name, token="default"):
        return self.req("POST", "/devicegroups", {"data": {"type": "development_devicegroup", "attributes": {"name": name},
                        "relationships": {"product": {"type": "product", "id": prod}}}}, token=token)["data"]["id"]
    def deploy(self, g, dev, agent, token="default"):
        return self.req("POST", "/deployments", {"data": {"type": "deployment", "attributes": {"device_code": dev, "agent_code": agent},
                        "relationships": {"devicegroup": {"type": "development_devicegroup", "id": g}}}}, token=token)
    def assign(self, g, ids, token="default"):
        for i in range(0, len(ids), 500):
            self.req("POST", "/devicegroups/%s/relationships/devices" % g,
                     {"data": [{"type": "device", "id": d} for d in ids[i:i + 500]]}, token=token)
    def unassign(self, g, ids, token="default"):
        self.req("DELETE", "/devicegroups/%s/relationships/devices" % g,
                 {"data": [{"type": "device", "id": d} for d in ids]}, token=token)
    def restart(self, g, token="default"):
        self.req("POST", "/devicegroups/%s/restart" % g, token=token)
    def logs(self, d, n=10):
        return [e["msg"] for e in self.req("GET", "/devices/%s/logs?page[size]=%d" % (d, n))["data"]]
    def status(self, key):
        for l in open("/proc/%d/status" % self.p.pid):
            if l.startswith(key + ":"):
                return int(l.split()[1])
    def rss_mb(self): return self.status("VmRSS") // 1024
    def threads(self): return self.status("Threads")
    def pool(self):
        try: return self.req("GET", "/_sim/time", root=True)
        except Exception: return None
    def stop(self):
        self.p.kill(); self.p.wait()

class Prober:
    """GET path every `every` s on its own keep-alive connection; latencies in ms."""
    def __init__(self, sim, token, path="/products", every=0.02):
        u = urllib.parse.urlparse(sim.url)
        self.c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        self.h = {"authorization": "Bearer " + token}
        self.path, self.every, self.prefix = path, every, u.path
        self.lat, self.on = [], True
        self.t = threading.Thread(target=self.run, daemon=True); self.t.start()
    def run(self):
        while self.on:
            t = time.perf_counter()
            self.c.request("GET", self.prefix + self.path, headers=self.h)
            r = self.c.getresponse(); r.read()
            self.lat.append((time.perf_counter() - t) * 1000)
            time.sleep(self.every)
    def done(self):
        self.on = False; self.t.join()
        l = sorted(self.lat)
        if not l: return "no requests"
        pct = lambda p: l[min(len(l) - 1, int(len(l) * p))]
        return "p50 %.1f ms, p99 %.1f ms, max %.1f ms (%d requests)" % (pct(0.5), pct(0.99), l[-1], len(l))

def settle(sim, n, timeout=600):
    """Waits until the sim's RSS is stable (and, on a pool, n jobs idle); seconds taken."""
    t0 = time.time(); last = -1
    while time.time() - t0 < timeout:
        time.sleep(1)
        p = sim.pool()
        rss = sim.rss_mb()
        busy = p is not None and (p["jobs"] < n or p["ready"] > 0)
        if not busy and abs(rss - last) <= max(2, last // 200):
            return time.time() - t0 - 1
        last = rss
    return time.time() - t0

def idle(binary, n, label, hw=False):
    sim = Sim(binary, ["--devices", str(n)])
    base_rss, base_thr = sim.rss_mb(), sim.threads()
    ids = sim.devices()
    g = sim.group(sim.product("P"), "G")
    pin = "hardware.pinA.configure(DIGITAL_OUT, 1);\n" if hw else ""
    sim.deploy(g, pin + "imp.wakeup(3600, function() { server.log(\"an hour\"); });",
               "device.on(\"ping\", function(d) { server.log(d); });")
    probe = Prober(sim, sim.token)
    t0 = time.time()
    sim.assign(g, ids)
    took = settle(sim, n) + (time.time() - t0 - 0)  # assign time + settle
    lat = probe.done()
    print("%-7s %5d idle devices%s: RSS %d MB (empty sim %d MB), %d threads (empty sim %d); booted in %.0f s; API while booting: %s"
          % (label, n, " driving a pin" if hw else "", sim.rss_mb(), base_rss, sim.threads(), base_thr, took, lat), flush=True)
    sim.stop()

def loggers(binary, n, label):
    sim = Sim(binary, ["--devices", str(n)])
    ids = sim.devices()
    g = sim.group(sim.product("P"), "G")
    sim.deploy(g, "function tick() { server.log(\"tick\"); imp.wakeup(1, tick); }\ntick();", "")
    sim.assign(g, ids)
    settle(sim, n)
    probe = Prober(sim, sim.token, path="/devices/%s" % ids[0])
    time.sleep(15)
    print("%-7s %5d devices logging once a second: API %s; RSS %d MB, %d threads"
          % (label, n, probe.done(), sim.rss_mb(), sim.threads()), flush=True)
    sim.stop()

NATIVE = "local a = array(200000, 1);\nserver.log(\"VERSION running\");\nwhile (true) { a.sort(); a.reverse(); }"

def attack(binary, label):
    sim = Sim(binary, ["--devices", "3", "--account", "user:password", "--account", "other:pw"])
    other = sim.login("other", "pw")
    sim.product("O", token=other)
    ids = sim.devices("user")
    g = sim.group(sim.product("P"), "G")
    probe = Prober(sim, other)
    time.sleep(10)
    quiet = probe.done()
    sim.deploy(g, NATIVE.replace("VERSION", "v1"), "")
    sim.assign(g, ids)
    time.sleep(1)
    probe = Prober(sim, other)
    time.sleep(10)
    loud = probe.done()
    print("%-7s native-heavy loop on 3 devices: other account's API before %s; during %s" % (label, quiet, loud), flush=True)
    # Redeploy and restart: time until the new code runs on all three.
    sim.deploy(g, "server.log(\"v2 running\");", "")
    t0 = time.time()
    sim.restart(g)
    left = set(ids)
    while left and time.time() - t0 < 30:
        for d in list(left):
            if "v2 running" in sim.logs(d, 5):
                left.discard(d)
    took = (time.time() - t0) * 1000
    if left:
        print("%-7s redeploy+restart: the new code did not run on %d of 3 devices within 30 s (old code still running)" % (label, len(left)), flush=True)
    else:
        print("%-7s redeploy+restart: new code running on all 3 after %.0f ms (includes the 3 boot steps of 5 ms)" % (label, took), flush=True)
    # Unassignment of busy devices: time until no code runs.
    if sim.pool() is not None:
        sim.deploy(g, NATIVE.replace("VERSION", "v3"), "")
        sim.restart(g)
        t0 = time.time()
        while sim.pool()["running"] < 1 and time.time() - t0 < 10:
            time.sleep(0.01)
        time.sleep(0.5)
        t0 = time.time()
        sim.unassign(g, ids)
        while time.time() - t0 < 10:
            p = sim.pool()
            if p["running"] == 0 and p["ready"] == 0:
                break
        print("%-7s unassign of 3 busy devices: workers free after %.0f ms" % (label, (time.time() - t0) * 1000), flush=True)
    sim.stop()

def virtual(binary, label):
    sim = Sim(binary, ["--devices", "1", "--virtual-time"])
    d = sim.devices()[0]
    g = sim.group(sim.product("P"), "G")
    sim.deploy(g, "imp.wakeup(3600, function() { server.log(\"an hour later\"); });", "")
    t0 = time.time()
    sim.assign(g, [d])
    while "an hour later" not in sim.logs(d, 5) and time.time() - t0 < 30:
        time.sleep(0.005)
    print("%-7s --virtual-time: imp.wakeup(3600) fired after %.0f ms of real time" % (label, (time.time() - t0) * 1000), flush=True)
    sim.stop()

what, binary, label = sys.argv[1], sys.argv[2], sys.argv[3]
if what == "idle": idle(binary, int(sys.argv[4]), label, len(sys.argv) > 5)
elif what == "loggers": loggers(binary, int(sys.argv[4]), label)
elif what == "attack": attack(binary, label)
elif what == "virtual": virtual(binary, label)
PY
run() {  # what, extra...
  local what=$1; shift
  if [ -n "${BEFORE:-}" ]; then python3 "$TMP/bench.py" "$what" "$BEFORE" before "$@" || true; fi
  python3 "$TMP/bench.py" "$what" "$BIN" after "$@"
}
echo "impt sim: devices at scale ($(nproc) cores; $(date -u +%F))"
if [ -n "${BEFORE:-}" ]; then python3 "$TMP/bench.py" idle "$BEFORE" before "$IDLE_BEFORE" || true; fi
python3 "$TMP/bench.py" idle "$BIN" after "$IDLE_BEFORE"
python3 "$TMP/bench.py" idle "$BIN" after "$IDLE"
if [ -n "${BEFORE:-}" ]; then python3 "$TMP/bench.py" idle "$BEFORE" before "$IDLE_BEFORE" hw || true; fi
python3 "$TMP/bench.py" idle "$BIN" after "$IDLE_BEFORE" hw
run loggers "$LOGGERS"
run attack
python3 "$TMP/bench.py" virtual "$BIN" after
