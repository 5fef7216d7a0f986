"""File helpers run *inside* the sandbox (so the policy applies to them
too): the commands they run and how their failures read."""

from __future__ import annotations

import shlex
from typing import List

from .result import CommandResult


def read_cmd(path: str) -> str:
    return f"cat -- {shlex.quote(path)}"


def write_cmd(path: str) -> str:
    return f"cat > {shlex.quote(path)}"


def list_cmd(path: str) -> str:
    return f"ls -1A -- {shlex.quote(path)}"


def raise_for(result: CommandResult, op: str, path: str) -> None:
    """An OSError subclass named after what the sandbox's tool said."""
    if result.exit_code == 0:
        return
    said = result.stderr.strip()
    if "Permission denied" in said or "Read-only file system" in said or "Operation not permitted" in said:
        raise PermissionError(13, f"{op} {path} inside the sandbox: {said}", path)
    if "No such file" in said or "Directory nonexistent" in said or "cannot access" in said:
        raise FileNotFoundError(2, f"{op} {path} inside the sandbox: {said}", path)
    raise OSError(f"{op} {path} inside the sandbox failed (exit {result.exit_code}): {said}")


def names(result: CommandResult) -> List[str]:
    return [line for line in result.stdout.split("\n") if line]
