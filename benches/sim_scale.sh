#!/usr/bin/env bash
# Figures of `impt sim` at scale (issue 27): cost by the page, no global lock held for work.
#  1. GET /v5/products p50 with 10 and with 6,000 products (and their ratio).
#  2. `impt device list` wall time with 10 and with 1,000 devices (and their ratio).
#  3. 150 deployments of 4 MB: GET /v5/deployments?page[size]=1 p50/max, the sim's RSS
#     growth over 10 such listings, and another account's GET /v5/products latency meanwhile.
#  4. 50 concurrent 4 MB deployments: p50/p99/max of other requests (another account's
#     GET /v5/products) while they are compiled.
# Usage: benches/sim_scale.sh [BIN...]   (default: target/release/impt, built first).
# Several binaries (e.g. a copy of main's build, then this branch's) run one after the
# other in the same run, for before → after figures.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -eq 0 ]; then
  cargo build --release --quiet
  set -- "$PWD/target/release/impt"
fi
for BIN in "$@"; do
  echo "== $BIN"
  python3 - "$BIN" <<'PY'
import http.client, json, os, subprocess, sys, tempfile, threading, time

BIN = sys.argv[1]
TMP = tempfile.mkdtemp()

def start(*args):
    p = subprocess.Popen([BIN, "sim", "--port", "0", *args], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True)
    url = p.stdout.readline().split()[-1]
    threading.Thread(target=p.stdout.read, daemon=True).start()
    host, port = url.split("//")[1].split("/")[0].split(":")
    return p, url, int(port)

class C:
    def __init__(self, port, token=None):
        self.port, self.token = port, token
        self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    def req(self, method, path, body=None):
        h = {"content-type": "application/vnd.api+json"}
        if self.token:
            h["authorization"] = "Bearer " + self.token
        data = json.dumps(body).encode() if body is not None else None
        for _ in range(3):
            try:
                self.c.request(method, path, body=data, headers=h)
                r = self.c.getresponse()
                return r.status, r.read()
            except (http.client.HTTPException, ConnectionError):
                self.c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        raise RuntimeError("no answer")

def login(port, user="user", pw="password"):
    s, b = C(port).req("POST", "/v5/auth", {"id": user, "password": pw})
    return json.loads(b)["access_token"]

def timed(c, path, n):
    ts = []
    for _ in range(n):
        t0 = time.perf_counter()
        s, _ = c.req("GET", path)
        ts.append((time.perf_counter() - t0) * 1000)
        assert s == 200, s
    ts.sort()
    return ts

def pct(ts, p):
    return ts[min(len(ts) - 1, int(len(ts) * p))]

def rss(p):
    for line in open(f"/proc/{p.pid}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) // 1024

# 1. products
p, url, port = start("--devices", "0")
c = C(port, login(port))
for i in range(10):
    c.req("POST", "/v5/products", {"data": {"type": "product", "attributes": {"name": f"p{i}"}}})
small = pct(timed(c, "/v5/products", 300), 0.5)
for i in range(10, 6000):
    c.req("POST", "/v5/products", {"data": {"type": "product", "attributes": {"name": f"p{i}"}}})
big = pct(timed(c, "/v5/products", 100), 0.5)
print(f"products: GET /v5/products p50 {small:.2f} ms at 10, {big:.2f} ms at 6000: ratio {big / small:.1f}")
p.kill()

# 2. impt device list
def device_list(n):
    p, url, port = start("--devices", str(n))
    home = tempfile.mkdtemp(dir=TMP)
    env = dict(os.environ, HOME=home)
    subprocess.run([BIN, "auth", "login", "-u", "user", "-w", "password", "-e", url],
                   cwd=home, env=env, check=True, stdout=subprocess.DEVNULL)
    ts = []
    for _ in range(5):
        t0 = time.perf_counter()
        out = subprocess.run([BIN, "device", "list", "-z", "json"], cwd=home, env=env,
                             check=True, capture_output=True, text=True).stdout
        ts.append((time.perf_counter() - t0) * 1000)
    assert len(json.loads(out)) == n, out[:200]
    p.kill()
    return sorted(ts)[len(ts) // 2]
d10, d1000 = device_list(10), device_list(1000)
print(f"device list: {d10:.0f} ms with 10 devices, {d1000:.0f} ms with 1000: ratio {d1000 / d10:.1f}")

# 3. and 4. large deployments
MB4 = 4 * 1024 * 1024
line = 'server.log("0123456789abcdef0123456789abcdef0123456789abcdef");\n'
CODE = line * (MB4 // len(line))
p, url, port = start("--devices", "0", "--max-body", str(2 * MB4),
                     "--account", "user:password", "--account", "other:password")
a, b = C(port, login(port)), C(port, login(port, "other"))
def group(c, name):
    _, pb = c.req("POST", "/v5/products", {"data": {"type": "product", "attributes": {"name": name}}})
    pid = json.loads(pb)["data"]["id"]
    _, gb = c.req("POST", "/v5/devicegroups", {"data": {"type": "development_devicegroup",
        "attributes": {"name": name}, "relationships": {"product": {"type": "product", "id": pid}}}})
    return json.loads(gb)["data"]["id"]
ga = group(a, "big")
b.req("POST", "/v5/products", {"data": {"type": "product", "attributes": {"name": "other"}}})
def deploy(c, gid, i):
    s, body = c.req("POST", "/v5/deployments", {"data": {"type": "deployment",
        "attributes": {"device_code": CODE, "agent_code": f"// {i}\n"},
        "relationships": {"devicegroup": {"type": "development_devicegroup", "id": gid}}}})
    assert s == 201, body[:300]
for i in range(150):
    deploy(a, ga, i)

def other_latency(stop, out):
    cc = C(port, b.token)
    while not stop.is_set():
        t0 = time.perf_counter()
        cc.req("GET", "/v5/products")
        out.append((time.perf_counter() - t0) * 1000)
        time.sleep(0.002)

base = rss(p)
stop, lat = threading.Event(), []
t = threading.Thread(target=other_latency, args=(stop, lat)); t.start()
ts = timed(a, "/v5/deployments?page%5Bsize%5D=1", 10)
stop.set(); t.join()
lat.sort()
print(f"deployments: 150 x 4 MB, page[size]=1 p50 {pct(ts, 0.5):.1f} ms max {ts[-1]:.1f} ms; "
      f"RSS {base} MB -> {rss(p)} MB after 10 listings; other account p50 {pct(lat, 0.5):.1f} ms "
      f"max {lat[-1]:.1f} ms ({len(lat)} requests)")

gb = group(a, "concurrent")
stop, lat = threading.Event(), []
t = threading.Thread(target=other_latency, args=(stop, lat)); t.start()
time.sleep(0.2)
t0 = time.perf_counter()
ws = [threading.Thread(target=deploy, args=(C(port, a.token), gb, 1000 + i)) for i in range(50)]
for w in ws: w.start()
for w in ws: w.join()
took = time.perf_counter() - t0
stop.set(); t.join()
lat.sort()
print(f"50 concurrent 4 MB deployments in {took:.1f} s: other requests p50 {pct(lat, 0.5):.1f} ms "
      f"p99 {pct(lat, 0.99):.1f} ms max {lat[-1]:.1f} ms ({len(lat)} requests)")
p.kill()
PY
done
