#!/usr/bin/env python3
"""Prints the fixed sample that CI compares with the Python spec (ethereum-tests/eels-sample.txt):
fixture paths relative to the pinned data folder (LOCKSTEP_TESTS_DIR, ../shared), state tests of
ethereum/tests and mainnet blocks.

Usage: scripts/eels-sample.py ../shared > ethereum-tests/eels-sample.txt

The rule, deterministic over the sorted list of GeneralStateTests files: every file with a case
of a fork before Istanbul (Frontier .. ConstantinopleFix are rare in v13.3) that has at most 250
cases, and every 8th file with at most 40 cases; never the slow folders (stTimeConsuming,
vmPerformance, stQuadraticComplexity), which take minutes in Python, nor the files in SLOW_FILES,
each of which took more than 5 s in the Python spec (2.20.0, on 2 cores) when this was measured.
Then the 10 mainnet blocks in MAINNET_BLOCKS: per fork the quickest in the Python spec, none with
ommers (its t8n cannot pay ommer rewards).
"""
import json
import os
import sys

OLD = {"Frontier", "Homestead", "EIP150", "EIP158", "Byzantium", "Constantinople", "ConstantinopleFix"}
SLOW = ("stTimeConsuming", "vmPerformance", "stQuadraticComplexity")
MAINNET_BLOCKS = (46147, 930196, 1150000, 2674998, 2688148, 5891667, 9068998, 12300570, 15537393, 19426587)
SLOW_FILES = (
    "static_Call50000bytesContract50_1.json",  # 267 s
    "CallcodeToPrecompileFromCalledContract.json",  # 22 s
    "static_Call1024PreCalls2.json",  # 22 s
    "static_callcodecallcall_100_OOGMAfter2.json",  # 17 s
    "randomStatetest458.json",  # 14 s
    "ecpairing_two_point_fail_2.json",  # 12 s
    "static_callcallcodecall_010_OOGMAfter.json",  # 8 s
    "ecpairing_one_point_fail.json",  # 6 s
    "Delegatecall1024.json",  # 6 s
    "Callcode1024OOG.json",  # 5 s
)


def main(data: str) -> None:
    root = os.path.join(data, "ethereum-tests")
    files = sorted(
        os.path.relpath(os.path.join(d, f), root)
        for d, _, names in os.walk(os.path.join(root, "GeneralStateTests"))
        for f in names
        if f.endswith(".json")
    )
    print("# Fixed sample of ethereum/tests v13.3 state tests and mainnet blocks for the comparison with")
    print("# the Python spec; made by scripts/eels-sample.py (its docstring has the rule). Paths relative")
    print("# to the pinned data folder (LOCKSTEP_TESTS_DIR, ../shared).")
    for i, path in enumerate(files):
        if any(s in path for s in SLOW) or os.path.basename(path) in SLOW_FILES:
            continue
        with open(os.path.join(root, path)) as f:
            tests = json.load(f)
        forks = {}
        for test in tests.values():
            for fork, entries in test.get("post", {}).items():
                forks[fork] = forks.get(fork, 0) + len(entries)
        cases = sum(forks.values())
        if (OLD & forks.keys() and cases <= 250) or (i % 8 == 0 and cases <= 40):
            print(os.path.join("ethereum-tests", path))
    for block in MAINNET_BLOCKS:
        print(f"mainnet-blocks/{block}.json.gz")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared")
