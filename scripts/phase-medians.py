#!/usr/bin/env python3
"""Prints the median length of each phase of the parallel executors over the blocks of a run
built with the `phase-timer` feature, from the lines it wrote to stderr (`phase NAME NANOS`,
then `phase-block` after each block; see executor/src/phases.rs).

Usage:
  cargo build --release -p lockstep --features phase-timer
  target/release/lockstep bench builtin:transfers --executors revm,parallel:2 --repeat 40 \\
    2>&1 >/dev/null | scripts/phase-medians.py

Bench one workload and one timed executor at a time: every block flushed counts alike (the
warm-up runs too, which the median leaves aside). A phase of several workers (`NAME.wN`) is
listed per worker and as `NAME.max`, the longest worker's in each block (the one the others
wait for).
"""
import re
import statistics
import sys


def main():
    blocks, current = [], {}
    for line in sys.stdin:
        if line.startswith("phase-block"):
            blocks.append(current)
            current = {}
            continue
        match = re.match(r"phase (\S+) (\d+)$", line.strip())
        if not match:
            continue
        name, nanos = match.group(1), int(match.group(2))
        current[name] = current.get(name, 0) + nanos
        worker = re.match(r"(.*)\.w\d+$", name)
        if worker:
            key = worker.group(1) + ".max"
            current[key] = max(current.get(key, 0), current[name])
    if not blocks:
        sys.exit("phase-medians: no `phase-block` line read (was lockstep built with --features phase-timer?)")
    names = []
    for block in blocks:
        names.extend(name for name in block if name not in names)
    print(f"{len(blocks)} blocks; median milliseconds per phase")
    for name in names:
        values = [block[name] for block in blocks if name in block]
        print(f"{name:<32} {statistics.median(values) / 1e6:8.3f}  ({len(values)} blocks)")


main()
