#!/usr/bin/env python3
"""Prints, per executor, the cases it ran, the seconds it spent on them and its cases per second,
from a `lockstep run --json` report. Usage: scripts/executor-figures.py REPORT.json"""
import json
import sys

report = json.load(open(sys.argv[1]))
ran, millis = {}, {}
for case in report["cases"]:
    for e in case["executors"]:
        if e["status"] != "skipped":
            ran[e["executor"]] = ran.get(e["executor"], 0) + 1
            millis[e["executor"]] = millis.get(e["executor"], 0.0) + e["millis"]
print(f"{'executor':<28} {'cases':>7} {'seconds':>9} {'cases/s':>9}")
for name in ran:
    secs = millis[name] / 1000
    print(f"{name:<28} {ran[name]:>7} {secs:>9.1f} {ran[name] / secs if secs else 0:>9.1f}")
print("summary:", json.dumps(report["summary"]))
