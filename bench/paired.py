"""Paired, interleaved comparison of commands: each round runs every command
once, in a shuffled order, so load that changes during the run hits all of
them alike. Reports each command's median wall time, the median of the
per-round ratios against the first command (the baseline) with its
interquartile range, and the median per-round difference in milliseconds.

Usage: bench/paired.py ROUNDS 'LABEL=COMMAND' 'LABEL=COMMAND' ...
  e.g. bench/paired.py 300 'base=/tmp/old/cordon run --rw /tmp/w -- true' \\
                           'new=target/.../cordon run --rw /tmp/w -- true'
Commands are split on spaces (no shell); stdout/stderr are discarded.
"""
import os
import random
import statistics
import subprocess
import sys
import time


def main():
    rounds = int(sys.argv[1])
    commands = []
    for spec in sys.argv[2:]:
        label, _, command = spec.partition("=")
        argv = command.split()
        # Commands run from `/` (which every sandbox sees: `cordon run` works
        # in the caller's directory); a relative program path is made absolute.
        if "/" in argv[0]:
            argv[0] = os.path.abspath(argv[0])
        commands.append((label, argv))
    times = {label: [] for label, _ in commands}
    for _ in range(5):  # warm-up, not counted
        for _, argv in commands:
            subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/")
    for _ in range(rounds):
        order = list(commands)
        random.shuffle(order)
        for label, argv in order:
            start = time.perf_counter()
            done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/")
            elapsed = time.perf_counter() - start
            if done.returncode != 0:
                sys.exit(f"{label} exited {done.returncode}: {' '.join(argv)}")
            times[label].append(elapsed)
    base = commands[0][0]
    load = " ".join(open("/proc/loadavg").read().split()[:3])
    print(f"{rounds} paired rounds, shuffled order each round; load average at the end: {load}")
    print()
    print(f"| command | median ms | median per-round ratio to {base} (p25–p75) "
          f"| median per-round difference ms |")
    print("|---|---|---|---|")
    for label, _ in commands:
        ratios = sorted(t / b for t, b in zip(times[label], times[base]))
        diffs = [(t - b) * 1000 for t, b in zip(times[label], times[base])]
        q1, _, q3 = statistics.quantiles(ratios, n=4)
        print(f"| {label} | {statistics.median(times[label]) * 1000:.2f} "
              f"| {statistics.median(ratios):.3f} ({q1:.3f}–{q3:.3f}) "
              f"| {statistics.median(diffs):+.2f} |")

if __name__ == "__main__":
    main()
