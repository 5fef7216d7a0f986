"""cordon: run untrusted code on Linux inside a boundary declared by a
policy. This package drives the cordon binary (the one source of policy
truth) through its command line and its outcome channel.

Quick start::

    import cordon

    result = cordon.run("echo hello", cordon.Policy(readonly=["/srv/data"]), timeout=30)
    print(result.exit_code, result.stdout)

    with cordon.Sandbox.create(cordon.Policy(readwrite=["/tmp/work"])) as sb:
        sb.commands.run("make test", cwd="/tmp/work", check=True)

The asyncio twin has the same names in :mod:`cordon.aio`.
"""

from . import aio
from ._binary import cordon_binary
from .errors import (
    ERROR_CODES,
    BackendError,
    BackendUnavailable,
    CommandFailed,
    CommandTimeout,
    CordonError,
    PolicyError,
    SandboxNotFound,
    WrongState,
)
from .platform import platform_support
from .policy import (
    FilesystemPolicyResult,
    Policy,
    available_tools_policy,
    temporary_files_policy,
    user_profile_policy,
)
from .result import CommandResult
from .sandbox import CommandHandle, Sandbox, run

__all__ = [
    "aio",
    "run",
    "Sandbox",
    "CommandHandle",
    "CommandResult",
    "Policy",
    "FilesystemPolicyResult",
    "available_tools_policy",
    "temporary_files_policy",
    "user_profile_policy",
    "platform_support",
    "cordon_binary",
    "ERROR_CODES",
    "CordonError",
    "PolicyError",
    "SandboxNotFound",
    "WrongState",
    "BackendUnavailable",
    "BackendError",
    "CommandFailed",
    "CommandTimeout",
]
