#!/usr/bin/env python3
"""What cordon's Python SDK (sdk/python) costs over the binary, from Python:
cordon.run("true") against subprocess.run of `cordon --config -` with the
same config (budget: 1 ms), and a Sandbox's commands.run("true") against
subprocess.run of `cordon exec ID -- sh -c true` (budget: 2 ms). Paired
rounds in shuffled order; medians of per-round ratios and differences.

    python3 bench/python_overhead.py CORDON [ROUNDS]   # with the SDK importable
"""

import json
import os
import random
import statistics
import subprocess
import sys
import time

cordon_bin = sys.argv[1]
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 100
os.environ["CORDON_BIN"] = cordon_bin
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "sdk", "python", "python"))
import cordon  # noqa: E402
from cordon import _request  # noqa: E402

config = json.dumps(_request.one_shot("true", None, None, None, None)).encode()


def paired(name, direct, sdk):
    for _ in range(5):
        direct()
        sdk()
    d, s, ratio = [], [], []
    for _ in range(rounds):
        t = {}
        for which in random.sample(["direct", "sdk"], 2):
            began = time.perf_counter()
            (direct if which == "direct" else sdk)()
            t[which] = (time.perf_counter() - began) * 1000
        d.append(t["direct"])
        s.append(t["sdk"])
        ratio.append(t["sdk"] / t["direct"])
    diff = statistics.median([b - a for a, b in zip(d, s)])
    print(f"| {name}: direct | {statistics.median(d):.2f} ms |")
    print(f"| {name}: SDK | {statistics.median(s):.2f} ms |")
    print(f"| {name}: median ratio / difference | {statistics.median(ratio):.3f} / {diff:.2f} ms |")


def direct_run():
    subprocess.run([cordon_bin, "--config", "-"], input=config, capture_output=True, check=True)


def sdk_run():
    assert cordon.run("true").exit_code == 0


print(f"{rounds} paired rounds, {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC")
paired("one-shot run", direct_run, sdk_run)
with cordon.Sandbox.create() as sb:
    paired(
        "exec in a sandbox",
        lambda: subprocess.run([cordon_bin, "exec", sb.id, "--", "sh", "-c", "true"], capture_output=True, check=True),
        lambda: sb.commands.run("true"),
    )
print("load average at the end: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
