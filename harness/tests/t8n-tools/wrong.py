#!/usr/bin/env python3
"""A deliberately wrong t8n tool, for lockstep's tests.

Usage: wrong.py MODE SOURCE... T8N-FLAGS...
  MODE    storage: the first account (by address) with storage gets its lowest slot plus one;
          log: the first receipt with logs loses its last log; none: no change.
  SOURCE  answer=FILE: the right answer, {"result": ..., "alloc": ...}, made beforehand;
          or a real t8n command (up to the first --flag), whose output is then changed.
Prints what it changed on stderr.
"""
import json
import os
import subprocess
import sys


def flag(args, name, default=None):
    for a in args:
        if a.startswith(name + "="):
            return a.split("=", 1)[1]
    return default


def main():
    mode, rest = sys.argv[1], sys.argv[2:]
    split = next((i for i, a in enumerate(rest) if a.startswith("--")), len(rest))
    source, flags = rest[:split], rest[split:]
    basedir = flag(flags, "--output.basedir", ".")
    result_path = os.path.join(basedir, flag(flags, "--output.result", "result.json"))
    alloc_path = os.path.join(basedir, flag(flags, "--output.alloc", "alloc.json"))
    if source and source[0].startswith("answer="):
        with open(source[0].split("=", 1)[1]) as f:
            answer = json.load(f)
        result, alloc = answer["result"], answer["alloc"]
    else:
        subprocess.run(source + flags, check=True)
        with open(result_path) as f:
            result = json.load(f)
        with open(alloc_path) as f:
            alloc = json.load(f)
    if mode == "storage":
        address = min(a for a, acc in alloc.items() if acc.get("storage"))
        storage = alloc[address]["storage"]
        slot = min(storage, key=lambda k: int(k, 16))
        storage[slot] = hex(int(storage[slot], 16) + 1)
        print(f"changed {address} slot {slot} to {storage[slot]}", file=sys.stderr)
    elif mode == "log":
        i = next(i for i, r in enumerate(result["receipts"]) if r.get("logs"))
        result["receipts"][i]["logs"].pop()
        print(f"dropped the last log of receipt {i}", file=sys.stderr)
    elif mode != "none":
        sys.exit(f"unknown mode {mode}")
    with open(result_path, "w") as f:
        json.dump(result, f)
    with open(alloc_path, "w") as f:
        json.dump(alloc, f)


if __name__ == "__main__":
    main()
