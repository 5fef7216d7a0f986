#!/usr/bin/env python3
"""The bwrap command cordon's bubblewrap backend runs for `cordon run
--backend bubblewrap -- COMMAND...`, as a replayable spec for bench/paired.py
(`LABEL=@FILE`): the baseline "plain bwrap with the equivalent arguments".

It reads cordon's `--debug` line "bwrap argv [...]" and keeps every argument
but those naming descriptors only cordon holds: `--json-status-fd N` and
`--seccomp N` are dropped (a status pipe and loading a BPF program cost
bwrap microseconds), the janitor's tag (`--unsetenv CORDON_RUN_…`) too, and
each `--ro-bind-data N` (an empty file) reads /dev/null as descriptor 3.

Usage: bench/bwrap_same.py CORDON OUT.json -- COMMAND...
"""
import json
import subprocess
import sys


def main():
    cordon, out = sys.argv[1], sys.argv[2]
    command = sys.argv[sys.argv.index("--") + 1:]
    run = subprocess.run([cordon, "run", "--debug", "--backend", "bubblewrap", "--", *command],
                         capture_output=True, text=True, cwd="/")
    line = next((l for l in run.stderr.splitlines() if l.startswith("cordon: debug: bwrap argv ")),
                None)
    if run.returncode != 0 or line is None:
        sys.exit(f"cordon did not run bwrap: exit {run.returncode}\n{run.stderr}")
    argv = json.loads(line.split("bwrap argv ", 1)[1])
    kept, i = [argv[0]], 1
    while i < len(argv):
        a = argv[i]
        if a in ("--json-status-fd", "--seccomp"):
            i += 2
            continue
        if a == "--unsetenv" and argv[i + 1].startswith("CORDON_RUN_"):
            i += 2
            continue
        if a == "--ro-bind-data":
            kept += [a, "3"]
            i += 2
            continue
        kept.append(a)
        i += 1
    with open(out, "w") as f:
        json.dump({"argv": kept, "fds": {"3": "/dev/null"}}, f)


if __name__ == "__main__":
    main()
