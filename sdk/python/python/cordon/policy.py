"""Policies: a typed builder producing MXC 1.0 JSON, raw MXC config dicts as
they are, and the host-discovery helpers of MXC's SDK. Every check of a
policy is the binary's: a refused one raises :class:`~cordon.errors.PolicyError`
with cordon's message, naming the field or path at fault."""

from __future__ import annotations

import copy
import ipaddress
import os
import tempfile
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Union

#: The MXC contract version the builder writes.
CONTRACT_VERSION = "1.0.0"


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_network(host, strict=False)
        return True
    except ValueError:
        return False


@dataclass
class Policy:
    """What a sandbox may touch. Everything not granted is denied.

    ``readonly``/``readwrite``/``denied``: host paths. ``allow_hosts``: names,
    addresses or CIDRs the sandbox may connect to (any other egress denied);
    ``network="none"`` (the default without hosts) keeps only its own
    loopback. ``presets``: toolchains and your git identity, read-only
    (``git``, ``rust``, ``python``, ``node``, ``go``). ``memory_mb``,
    ``cpu_percent``, ``max_processes``: limits. ``backend``: ``process``
    (cordon's best here), ``native`` or ``bubblewrap``.
    """

    readonly: List[str] = field(default_factory=list)
    readwrite: List[str] = field(default_factory=list)
    denied: List[str] = field(default_factory=list)
    allow_hosts: List[str] = field(default_factory=list)
    network: str = "none"
    presets: List[str] = field(default_factory=list)
    memory_mb: Optional[int] = None
    cpu_percent: Optional[int] = None
    max_processes: Optional[int] = None
    backend: Optional[str] = None

    def to_config(self) -> Dict[str, Any]:
        """The MXC 1.0 config of this policy (no ``process`` section)."""
        config: Dict[str, Any] = {
            "version": CONTRACT_VERSION,
            "filesystem": {
                "readonlyPaths": list(self.readonly),
                "readwritePaths": list(self.readwrite),
                "deniedPaths": list(self.denied),
            },
        }
        if self.backend is not None:
            config["containment"] = self.backend
        if self.allow_hosts:
            rules = [{"to": [{"cidr": h} if _is_address(h) else {"host": h}]} for h in self.allow_hosts]
            config["network"] = {"egress": {"default": "deny", "allow": rules}}
        elif self.network != "none":
            # Refused by cordon by name, never silently widened.
            config["network"] = {"egress": {"default": self.network}}
        if self.presets:
            config["presets"] = list(self.presets)
        resources = {
            k: v
            for k, v in (("memoryMb", self.memory_mb), ("cpuPercent", self.cpu_percent), ("maxProcesses", self.max_processes))
            if v is not None
        }
        if resources:
            config["resources"] = resources
        return config


PolicyLike = Union[Policy, Mapping[str, Any], None]


def config_of(policy: PolicyLike) -> Dict[str, Any]:
    """A config dict from a :class:`Policy`, a raw MXC config (copied as it
    is), or ``None`` (nothing granted)."""
    if policy is None:
        return Policy().to_config()
    if isinstance(policy, Policy):
        return policy.to_config()
    if isinstance(policy, Mapping):
        return copy.deepcopy(dict(policy))
    raise TypeError(f"policy: expected cordon.Policy, an MXC config dict or None, not {type(policy).__name__}")


@dataclass
class FilesystemPolicyResult:
    """A fragment of filesystem policy (MXC's helpers' result)."""

    readonly_paths: List[str] = field(default_factory=list)
    readwrite_paths: List[str] = field(default_factory=list)
    temp_directory: Optional[str] = None


_TOOL_HOMES = ("JAVA_HOME", "GOROOT", "RUSTUP_HOME", "CARGO_HOME", "NVM_DIR", "PYENV_ROOT", "DOTNET_ROOT", "VIRTUAL_ENV")


def available_tools_policy(env: Optional[Mapping[str, str]] = None) -> FilesystemPolicyResult:
    """Existing absolute ``PATH`` entries and tool homes, read-only (relative
    entries such as ``.`` are left out). MXC: ``getAvailableToolsPolicy``."""
    env = os.environ if env is None else env
    seen: List[str] = []
    for entry in env.get("PATH", "").split(":") + [env.get(k, "") for k in _TOOL_HOMES]:
        if entry and os.path.isabs(entry):
            d = os.path.normpath(entry)
            if os.path.isdir(d) and d not in seen:
                seen.append(d)
    return FilesystemPolicyResult(readonly_paths=seen)


def temporary_files_policy(env: Optional[Mapping[str, str]] = None) -> FilesystemPolicyResult:
    """A new 0700 directory under ``TMPDIR`` (else ``/tmp``), read-write; the
    caller removes it. MXC: ``getTemporaryFilesPolicy``."""
    env = os.environ if env is None else env
    base = env.get("TMPDIR") or "/tmp"
    if not (os.path.isabs(base) and os.path.isdir(base)):
        base = "/tmp"
    d = tempfile.mkdtemp(prefix="cordon-sandbox-", dir=base)
    return FilesystemPolicyResult(readwrite_paths=[d], temp_directory=d)


def user_profile_policy(env: Optional[Mapping[str, str]] = None) -> FilesystemPolicyResult:
    """``~/.local/bin`` read-only when it exists; never the home itself.
    MXC: ``getUserProfilePolicy``."""
    env = os.environ if env is None else env
    b = os.path.join(env.get("HOME") or os.path.expanduser("~"), ".local", "bin")
    return FilesystemPolicyResult(readonly_paths=[b] if os.path.isdir(b) else [])
