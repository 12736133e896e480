#!/usr/bin/env python3
"""impt watch's JSON events as problem lines, for JetBrains IDEs (or any tool that reads
`file:line:column: severity: message`): run as an External Tool
    impt watch -z json | python3 impt-problems.py
with the filter  $FILE_PATH$:$LINE$:$COLUMN$: .*  (see impt.xml). Every event is one JSON
object per line; this prints compile errors, mapped runtime error frames, deployments and
errors, and passes log lines through."""
import json
import re
import sys

for raw in sys.stdin:
    try:
        ev = json.loads(raw)
    except ValueError:
        print(raw, end="")
        continue
    kind = ev.get("event")
    if kind == "compile_error":
        for d in ev["errors"]:
            print(f'{d["file"]}:{d["line"]}:{d["column"]}: {d["severity"]}: {d["message"]}')
        print("» Compilation failed: not deployed; fix and save.")
    elif kind == "log":
        if "file" in ev:
            sev = "error" if re.match(r"ERROR:\s+at ", ev["msg"]) else "info"
            print(f'{ev["file"]}:{ev["line"]}:1: {sev}: {ev["msg"]}')
        else:
            print(f'[{ev["device_id"]}] {ev["ts"]} [{ev["type"]}] {ev["msg"]}')
    elif kind == "changed":
        print("» Changed: " + ", ".join(ev["paths"]))
    elif kind == "deployed":
        print(f'» Deployed {ev["sha"][:8]} in {ev["ms"]} ms.')
    elif kind in ("error", "stream_lost", "pending"):
        print(f'» {kind}: {ev.get("message") or ev.get("reason")}')
    sys.stdout.flush()
