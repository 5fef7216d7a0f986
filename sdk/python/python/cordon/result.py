"""What a finished command gives back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List


@dataclass
class CommandResult:
    """A finished command: its exit code, captured output, whether its
    timeout fired, how long it ran (seconds) and what cordon denied."""

    exit_code: int
    stdout: str
    stderr: str
    timed_out: bool = False
    duration: float = 0.0
    denials: List[Dict[str, Any]] = field(default_factory=list)
    stdout_bytes: bytes = b""
    stderr_bytes: bytes = b""

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out

    def check(self) -> "CommandResult":
        """Raise :class:`~cordon.errors.CommandTimeout` or
        :class:`~cordon.errors.CommandFailed` unless it succeeded."""
        from .errors import CommandFailed, CommandTimeout

        if self.timed_out:
            raise CommandTimeout(self)
        if self.exit_code != 0:
            raise CommandFailed(self)
        return self


def from_outcome(outcome: Dict[str, Any], stdout: bytes, stderr: bytes, duration: float) -> CommandResult:
    return CommandResult(
        exit_code=int(outcome["exitCode"]),
        stdout=stdout.decode("utf-8", "replace"),
        stderr=stderr.decode("utf-8", "replace"),
        timed_out=bool(outcome.get("timedOut")),
        duration=duration,
        denials=list(outcome.get("denials") or []),
        stdout_bytes=stdout,
        stderr_bytes=stderr,
    )
