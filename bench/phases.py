#!/usr/bin/env python3
"""Where a run's time goes: runs each command ROUNDS times with
CORDON_TIMING=1 (interleaved, shuffled per round, from `/`) and reports, per
phase cordon prints (`timing NAME SECONDS` on stderr; the supervisor's and
the sandbox init's, which run side by side), the median time since `main`
and since the phase before it in that run, with quartiles. The time from
exec to cordon's `main` is not seen by the timer (see
bench/process_start.sh).

Usage: bench/phases.py ROUNDS 'LABEL=COMMAND' ...
  e.g. bench/phases.py 100 "native=$BIN run -- true" \\
                           "bubblewrap=$BIN run --backend bubblewrap -- /usr/bin/true"
Commands are split on spaces (no shell)."""
import os
import random
import statistics
import subprocess
import sys


def phases(argv):
    """[(phase, seconds since `main`, seconds since the phase before)] of one run."""
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          cwd="/", env=dict(os.environ, CORDON_TIMING="1"))
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited with {done.returncode}: {done.stderr}")
    stamps = [(w[1], float(w[2])) for w in (line.split() for line in done.stderr.splitlines())
              if len(w) == 3 and w[0] == "timing"]
    if not stamps:
        raise SystemExit(f"{' '.join(argv)} printed no timing lines (is CORDON_TIMING honoured?)")
    stamps.sort(key=lambda stamp: stamp[1])
    start = stamps[0][1]
    return [(name, t - start, t - prev) for (name, t), (_, prev) in zip(stamps[1:], stamps)]


def main():
    rounds = int(sys.argv[1])
    commands = []
    for spec in sys.argv[2:]:
        label, _, command = spec.partition("=")
        argv = command.split()
        if "/" in argv[0]:
            argv[0] = os.path.abspath(argv[0])
        commands.append((label, argv))
    since_main = {label: {} for label, _ in commands}
    since_before = {label: {} for label, _ in commands}
    for _ in range(rounds):
        for label, argv in random.sample(commands, len(commands)):
            for name, at, took in phases(argv):
                since_main[label].setdefault(name, []).append(at * 1000)
                since_before[label].setdefault(name, []).append(took * 1000)
    load = " ".join(open("/proc/loadavg").read().split()[:3])
    print(f"{rounds} shuffled rounds; load average at the end {load}")
    for label, _ in commands:
        print()
        print(f"{label}: ms (median, quartiles)")
        print()
        print("| phase | since `main` | since the phase before | its quartiles |")
        print("|---|---|---|---|")
        at = {name: statistics.median(v) for name, v in since_main[label].items()}
        for name in sorted(at, key=at.get):
            values = since_before[label][name]
            q1, _, q3 = statistics.quantiles(values, n=4) if len(values) > 1 else (values[0],) * 3
            print(f"| {name} | {at[name]:.3f} | {statistics.median(values):.3f} | {q1:.3f}–{q3:.3f} |")


if __name__ == "__main__":
    main()
