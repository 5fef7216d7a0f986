#!/usr/bin/env python3
"""Fail if any source file of the workspace imports, through a chain of
others, from itself (ARCHITECTURE.md: data flows one way).

Per crate, an edge goes from a file to the file that defines what it names:
`crate::a::b` / `super::x` / `self::x` paths, `use crate::{...}` groups, and
bare `child::item` paths to a module the file declares. A path to an item of
lib.rs (or mod.rs) is an edge to that file, so re-exports there must not be
used from inside the crate. Comments and `#[cfg(test)] mod tests` are left out.
Usage: scripts/import_cycles.py [CRATES_DIR]   (default: crates)
"""
import os
import re
import sys


def modfile(src, parts, root):
    for n in range(len(parts), 0, -1):
        p = os.path.join(src, *parts[:n])
        if os.path.isfile(p + ".rs"):
            return p + ".rs"
        if os.path.isfile(os.path.join(p, "mod.rs")):
            return os.path.join(p, "mod.rs")
    return root


def modpath(src, f):
    rel = os.path.relpath(f, src)[:-3].split("/")
    if rel[-1] == "mod":
        rel = rel[:-1]
    if rel in (["lib"], ["main"]):
        rel = []
    return rel


def graph(crates):
    edges = {}
    for crate in sorted(os.listdir(crates)):
        src = os.path.join(crates, crate, "src")
        if not os.path.isdir(src):
            continue
        root = os.path.join(src, "lib.rs")
        if not os.path.exists(root):
            root = os.path.join(src, "main.rs")
        files = [os.path.join(d, f) for d, _, fs in os.walk(src) for f in fs if f.endswith(".rs")]
        for f in files:
            mp = modpath(src, f)
            text = open(f, encoding="utf-8").read()
            text = re.split(r"#\[cfg\(test\)\]\s*(?:pub(?:\(crate\))? )?mod tests", text)[0]
            text = re.sub(r"//[^\n]*", "", text)
            deps = set()
            for m in re.finditer(r"\b(crate|super|self)((?:::\w+)+)", text):
                kind, rest = m.group(1), m.group(2).split("::")[1:]
                base = {"crate": [], "super": mp[:-1], "self": mp}[kind]
                deps.add(modfile(src, base + rest, root))
            for m in re.finditer(r"(?<![:\w])(\w+)::", text):
                name = m.group(1)
                if name in ("crate", "super", "self", "std", "core"):
                    continue
                t = modfile(src, mp + [name], None)
                if t and t != root and len(modpath(src, t)) == len(mp) + 1:
                    deps.add(t)
            for kind, base in (("crate", []), ("super", mp[:-1])):
                for m in re.finditer(r"use %s::\{([^;]*)\};" % kind, text, re.S):
                    for item in re.split(r",\s*", m.group(1)):
                        item = [i for i in item.strip().split("::") if re.match(r"^\w+$", i)]
                        if item:
                            deps.add(modfile(src, base + item, root))
            deps.discard(f)
            edges[f] = deps
    return edges


def cycles(edges):
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(comp)

    for v in list(edges):
        if v not in index:
            visit(v)
    return found


def main():
    edges = graph(sys.argv[1] if len(sys.argv) > 1 else "crates")
    found = cycles(edges)
    for comp in found:
        print("import circle:", file=sys.stderr)
        for a in sorted(comp):
            for b in sorted(edges[a] & set(comp)):
                print(f"  {a} -> {b}", file=sys.stderr)
    if found:
        sys.exit(1)
    print(f"import_cycles: {len(edges)} files, no circle")


main()
