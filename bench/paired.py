"""Paired, interleaved comparison of commands: each round runs every command
once, in a shuffled order, so load that changes during the run hits all of
them alike. Reports each command's median wall time, the median of the
per-round ratios against the first command (the baseline) with its
interquartile range, and the median per-round difference in milliseconds.

Usage: bench/paired.py [--also LABEL] ROUNDS 'LABEL=COMMAND' 'LABEL=@SPEC.json' ...
  e.g. bench/paired.py 300 'base=/tmp/old/cordon run --rw /tmp/w -- true' \\
                           'new=target/.../cordon run --rw /tmp/w -- true'
Commands are split on spaces (no shell); stdout/stderr are discarded.
"""
import json
import os
import random
import statistics
import subprocess
import sys
import time


def run(command):
    """Run one command (argv, {descriptor: path}) from `/`; its exit code."""
    argv, fds = command
    opened = {n: os.open(path, os.O_RDONLY) for n, path in fds.items()}
    try:
        def place():
            for n, fd in opened.items():
                os.dup2(fd, n)
        done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              cwd="/", pass_fds=tuple(opened), preexec_fn=place if opened else None)
        return done.returncode
    finally:
        for fd in opened.values():
            os.close(fd)


def main():
    args = sys.argv[1:]
    # --also LABEL: a second table, of per-round ratios to LABEL.
    also = None
    if args and args[0] == "--also":
        also, args = args[1], args[2:]
    rounds = int(args[0])
    commands = []
    for spec in args[1:]:
        label, _, command = spec.partition("=")
        fds = {}
        if command.startswith("@"):
            # LABEL=@FILE: a JSON object {"argv": [...], "fds": {"3": PATH}}
            # (arguments with spaces; files opened as those descriptors).
            with open(command[1:]) as f:
                spec_json = json.load(f)
            argv = spec_json["argv"]
            fds = {int(k): v for k, v in spec_json.get("fds", {}).items()}
        else:
            argv = command.split()
        # Commands run from `/` (which every sandbox sees: `cordon run` works
        # in the caller's directory); a relative program path is made absolute.
        if "/" in argv[0]:
            argv[0] = os.path.abspath(argv[0])
        commands.append((label, (argv, fds)))
    times = {label: [] for label, _ in commands}
    for _ in range(5):  # warm-up, not counted
        for _, command in commands:
            run(command)
    for _ in range(rounds):
        order = list(commands)
        random.shuffle(order)
        for label, command in order:
            start = time.perf_counter()
            code = run(command)
            elapsed = time.perf_counter() - start
            if code != 0:
                sys.exit(f"{label} exited {code}: {' '.join(command[0])}")
            times[label].append(elapsed)
    load = " ".join(open("/proc/loadavg").read().split()[:3])
    print(f"{rounds} paired rounds, shuffled order each round; load average at the end: {load}")
    for base in [commands[0][0]] + ([also] if also else []):
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
