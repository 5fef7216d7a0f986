"""The requests the SDK hands cordon, and how it reads the answers. Shared
by the sync and asyncio APIs; no policy logic (the binary checks it all)."""

from __future__ import annotations

import json
import shlex
from typing import Any, Dict, Mapping, Optional, Sequence, Union

from .errors import BackendError, from_wire
from .policy import CONTRACT_VERSION, PolicyLike, config_of

Command = Union[str, Sequence[str]]


def command_line(cmd: Command) -> str:
    """A shell command line: a string as it is, a list quoted word by word."""
    if isinstance(cmd, str):
        return cmd
    return shlex.join([str(w) for w in cmd])


def process_section(
    cmd: Command,
    timeout: Optional[float],
    env: Optional[Mapping[str, str]],
    cwd: Optional[str],
) -> Dict[str, Any]:
    process: Dict[str, Any] = {"commandLine": command_line(cmd)}
    if timeout is not None:
        if timeout <= 0:
            raise ValueError("timeout: seconds, more than 0 (None: no timeout)")
        process["timeout"] = max(1, int(round(timeout * 1000)))
    if env:
        # Added to the default environment, as `cordon run --env` does.
        process["env"] = [f"{k}={v}" for k, v in env.items()]
        process["inheritDefaultEnv"] = True
    if cwd is not None:
        process["cwd"] = cwd
    return process


def one_shot(cmd: Command, policy: PolicyLike, timeout, env, cwd) -> Dict[str, Any]:
    config = config_of(policy)
    config.setdefault("version", CONTRACT_VERSION)
    process = dict(config.get("process") or {})
    process.update(process_section(cmd, timeout, env, cwd))
    config["process"] = process
    return config


def provision(policy: PolicyLike) -> Dict[str, Any]:
    config = config_of(policy)
    config.pop("process", None)
    config.setdefault("version", CONTRACT_VERSION)
    config.setdefault("containment", "process")
    config["phase"] = "provision"
    return config


def phase(name: str, sandbox_id: str) -> Dict[str, Any]:
    return {"version": CONTRACT_VERSION, "phase": name, "sandboxId": sandbox_id}


def exec_request(sandbox_id: str, cmd: Command, timeout, env, cwd) -> Dict[str, Any]:
    return {
        "version": CONTRACT_VERSION,
        "phase": "exec",
        "sandboxId": sandbox_id,
        "process": process_section(cmd, timeout, env, cwd),
    }


def encode(request: Mapping[str, Any]) -> bytes:
    return json.dumps(request).encode()


def parse_outcome(text: bytes, returncode: Optional[int]) -> Dict[str, Any]:
    """cordon's outcome document, or raise the error it carries."""
    lines = [line for line in text.decode("utf-8", "replace").splitlines() if line.strip()]
    if not lines:
        how = f"was killed by signal {-returncode}" if returncode is not None and returncode < 0 else f"exited with {returncode}"
        raise BackendError("backend_error", f"cordon {how} without an outcome (its stderr says why)")
    try:
        doc = json.loads(lines[-1])
    except ValueError:
        raise BackendError("backend_error", f"cordon's outcome is not JSON: {lines[-1]}") from None
    if "error" in doc:
        raise from_wire(doc["error"])
    if not isinstance(doc.get("exitCode"), int):
        raise BackendError("backend_error", f"cordon's outcome has no exit code: {lines[-1]}")
    return doc


def parse_envelope(stdout: bytes, stderr: bytes) -> Dict[str, Any]:
    """A lifecycle phase's answer: its ``result``, or raise its ``error``."""
    lines = [line for line in stdout.decode("utf-8", "replace").splitlines() if line.strip()]
    try:
        doc = json.loads(lines[-1]) if lines else None
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        raise BackendError("backend_error", f"cordon answered without an envelope: {stderr.decode(errors='replace').strip()}")
    if "error" in doc:
        raise from_wire(doc["error"])
    return doc.get("result", {})
