#!/usr/bin/env python3
"""Boots Electric Imp's published example applications' device code on `impt sim` and counts
"not supported by the simulator" messages.

Each `*device*.nut` file under the examples folders runs on its own virtual device for a few
seconds (virtual time runs --time-scale times faster). A device's imp type is the type whose
hardware object holds the most of the `hardware.X` names the file uses (the sim's
`POST /_sim/devices {imp_type}`; a sim without imp types ignores it). Prints one line per
app with a "not supported" count, then totals:

    apps N, booted without a "not supported" message M, "not supported" messages K, failed to deploy F

The examples are NOT part of this repository: clone them yourself, e.g.
    git clone https://github.com/electricimp/examples $IMPT_APPS/examples
Usage: benches/examples.py [FOLDER...]   (default: $IMPT_APPS/examples and
$IMPT_APPS/reference, IMPT_APPS default /work/peers/apps; IMPT: the impt binary, default
target/debug/impt; SECS: seconds each app runs, default 3; VERBOSE=1 prints the messages;
LIBRARIES: a folder of Electric Imp libraries for `#require`, passed as `impt sim --libraries`,
laid out DIR/<name>/<X.Y.Z>/<file>: offline, an app whose libraries are not there fails to
deploy and is counted apart).
Exits 0 when no app logged a "not supported" message, 1 otherwise, 2 when nothing ran.
"""
import json
import os
import re
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMPT = os.environ.get("IMPT", os.path.join(ROOT, "target/debug/impt"))
APPS = os.environ.get("IMPT_APPS", "/work/peers/apps")
SECS = float(os.environ.get("SECS", "3"))
VERBOSE = os.environ.get("VERBOSE") == "1"
NEEDLE = "not supported by the simulator"

# What each imp type's hardware object names (the sim's tables: crates/impt-vm/src/imptypes.rs).
AW = list("ABCDEFGHJKLMNPQRSTUVW")
TYPES = {
    "imp001": (["1", "2", "5", "7", "8", "9"], ["i2c89", "i2c12", "spi257", "spi189", "uart1289", "uart57", "uart12"]),
    "imp002": (["1", "2", "5", "6", "7", "8", "9", "A", "B", "C", "D", "E"],
               ["i2c89", "i2c12", "spi257", "spi189", "uart1289", "uart57", "uart12", "uart6E", "uartB"]),
    "imp003": (AW + ["X", "Y"], ["i2cFG", "i2cAB", "spiEBCA", "spiLGDK", "uartFG", "uartQRPW", "uartUVGD", "uartWJ", "uartDM", "spiflash"]),
    "imp004m": (list("ABCDEFGHJKLMNPQRSW"), ["i2cNM", "i2cQP", "spiAHSR", "spiGJKL", "uartBCAW", "uartFGJH", "uartHJ", "uartQ", "spiflash"]),
    "imp005": (AW + ["Y", "XA", "XB", "XC", "XD", "XE"], ["i2cJK", "i2c0", "spiBCAD", "spi0", "uart0", "uart1", "uart2", "spiflash", "usb"]),
    "imp006": (AW + ["X" + c for c in AW] + ["Y" + c for c in "ABCDEFGHJKLMN"],
               ["i2cJK", "i2cTU", "i2cLM", "spiEFGH", "spiXABCD", "spiXPQRS", "spiXTUVW", "uartABCD", "uartPQRS",
                "uartXEFGH", "uartXJKLM", "uartYEFGH", "uartYJKLM", "spiflash"]),
    "impC001": (AW + ["XA", "XB", "XC", "XD"] + ["Y" + c for c in "ABCDEFGHJKLMNPQRSTU"],
                ["i2cJH", "i2cKL", "i2cXBA", "i2cXDC", "spiDCAB", "spiPQRS", "spiEVMT", "spiYJTHU", "spiYRFES",
                 "uartDCAB", "uartEVMT", "uartNU", "uartHJKL", "uartPQSR", "uartXBADC", "uartYABCD", "spiflash", "usb"]),
}


def best_type(code):
    code = re.sub(r"//[^\n]*|/\*.*?\*/", "", code, flags=re.S)
    used = set(re.findall(r"hardware\.(pin[A-Z0-9]+|i2c[A-Z0-9]+|spi[A-Z0-9]+|uart[A-Z0-9]+|spiflash|usb)\b", code))
    if not used:
        return "imp001" if "hardware.sampler" in code or "fixedfrequencydac" in code else "imp003"
    def score(t):
        pins, buses = TYPES[t]
        have = {"pin" + p for p in pins} | set(buses)
        return len(used & have)
    return max(TYPES, key=score)


class Api:
    def __init__(self, base):
        self.base, self.token = base, None

    def call(self, method, path, body=None):
        url = path if path.startswith("http") else self.base + path
        req = urllib.request.Request(url, method=method,
                                     data=json.dumps(body).encode() if body is not None else None)
        req.add_header("content-type", "application/vnd.api+json")
        if self.token:
            req.add_header("authorization", "Bearer " + self.token)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                text = r.read().decode()
                return r.status, json.loads(text) if text else None
        except urllib.error.HTTPError as e:
            text = e.read().decode()
            try:
                return e.code, json.loads(text)
            except ValueError:
                return e.code, text


def main():
    folders = sys.argv[1:] or [os.path.join(APPS, "examples"), os.path.join(APPS, "reference")]
    files = []
    for folder in folders:
        for d, _, names in os.walk(folder):
            for n in sorted(names):
                if n.endswith(".nut") and "device" in n.lower() and "/tests" not in d and "/test" not in d:
                    files.append(os.path.join(d, n))
    files.sort()
    if not files or not os.access(IMPT, os.X_OK):
        print("nothing to run (IMPT_APPS=%s, IMPT=%s)" % (APPS, IMPT), file=sys.stderr)
        return 2
    args = [IMPT, "sim", "--port", "0", "--devices", "1", "--no-outbound", "--time-scale", "10"]
    if os.environ.get("LIBRARIES"):
        args += ["--libraries", os.environ["LIBRARIES"]]
    sim = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = sim.stdout.readline()
        m = re.search(r"listening on (http\S+)", line)
        if not m:
            print("sim did not start: " + line, file=sys.stderr)
            return 2
        base = m.group(1)
        root = base.rsplit("/v5", 1)[0]
        api = Api(base)
        _, auth = api.call("POST", "/auth", {"id": "user", "password": "password"})
        api.token = auth["access_token"]
        _, p = api.call("POST", "/products", {"data": {"type": "product", "attributes": {"name": "examples"}}})
        product = p["data"]["id"]
        runs = []
        for i, f in enumerate(files):
            code = open(f, encoding="utf-8", errors="replace").read()
            typ = best_type(code)
            _, dev = api.call("POST", root + "/_sim/devices", {"imp_type": typ, "name": "ex%d" % i})
            _, g = api.call("POST", "/devicegroups", {"data": {"type": "development_devicegroup",
                            "attributes": {"name": "ex%d" % i},
                            "relationships": {"product": {"type": "product", "id": product}}}})
            group = g["data"]["id"]
            st, body = api.call("POST", "/deployments", {"data": {"type": "deployment",
                             "attributes": {"device_code": code, "agent_code": ""},
                             "relationships": {"devicegroup": {"type": "development_devicegroup", "id": group}}}})
            if st != 201:
                detail = ""
                if isinstance(body, dict) and body.get("errors"):
                    e = body["errors"][0]
                    detail = " " + str(e.get("detail", ""))[:120] + " " + json.dumps(e.get("meta", ""))[:200]
                runs.append((f, typ, None, ["deploy failed: %s%s" % (st, detail)]))
                continue
            api.call("POST", "/devicegroups/%s/relationships/devices" % group,
                     {"data": [{"type": "device", "id": dev["id"]}]})
            runs.append((f, typ, dev["id"], []))
        time.sleep(SECS)
        total_msgs, clean = 0, 0
        for f, typ, dev, notes in runs:
            msgs = []
            if dev:
                _, logs = api.call("GET", "/devices/%s/logs?page%%5Bsize%%5D=100" % dev)
                if not isinstance(logs, dict):
                    notes.append("logs: %s" % logs)
                    logs = {}
                lines = [e.get("msg", "") for e in logs.get("data", [])]
                msgs = [l for l in lines if l and NEEDLE in l]
                if os.environ.get("ERRORS") == "1":
                    notes.extend(l for l in lines if l and l.startswith("ERROR: ") and "   at " not in l and "   from " not in l)
            total_msgs += len(msgs)
            clean += 1 if not msgs and dev else 0
            name = os.path.relpath(f, APPS)
            print("%-90s %-8s %d" % (name[:90], typ, len(msgs)))
            if VERBOSE:
                for l in sorted(set(msgs)) + notes:
                    print("    " + l)
        failed = sum(1 for r in runs if r[2] is None)
        print('apps %d, booted without a "not supported" message %d, "not supported" messages %d, '
              'failed to deploy %d' % (len(runs), clean, total_msgs, failed))
        return 0 if total_msgs == 0 else 1
    finally:
        sim.terminate()
        sim.wait(10)


if __name__ == "__main__":
    sys.exit(main())
