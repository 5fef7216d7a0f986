"""Errors: one base class carrying MXC's error code, and a subclass per kind
of refusal. Timeouts and non-zero exits raise only with ``check=True``."""

from __future__ import annotations

from typing import Optional

#: MXC's closed set of error codes (SPEC §4).
ERROR_CODES = (
    "malformed_request",
    "unsupported_containment",
    "unsupported_phase",
    "backend_unavailable",
    "malformed_id",
    "stale_id",
    "not_provisioned",
    "not_started",
    "already_started",
    "already_stopped",
    "policy_validation",
    "backend_error",
)


class CordonError(Exception):
    """A refusal or failure of cordon, with MXC's error ``code``."""

    def __init__(self, code: str, message: str, *, remediation: Optional[str] = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.remediation = remediation

    def __str__(self) -> str:
        extra = f" ({self.remediation})" if self.remediation else ""
        return f"{self.code}: {self.message}{extra}"


class PolicyError(CordonError):
    """The policy or request was refused (``policy_validation``,
    ``malformed_request``, ``unsupported_phase``)."""


class SandboxNotFound(CordonError):
    """The sandbox id is malformed, or no such sandbox exists (``malformed_id``,
    ``stale_id``, ``not_provisioned``)."""


class WrongState(CordonError):
    """The sandbox is not in a state the call accepts (``not_started``,
    ``already_started``, ``already_stopped``)."""


class BackendUnavailable(CordonError):
    """No backend can run the request here (``backend_unavailable``,
    ``unsupported_containment``)."""


class BackendError(CordonError):
    """cordon failed while running (``backend_error``)."""


class CommandFailed(CordonError):
    """``check=True``: the command exited non-zero. ``result`` holds its output."""

    def __init__(self, result) -> None:  # noqa: ANN001 (CommandResult; import cycle)
        super().__init__("command_failed", f"the command exited with {result.exit_code}")
        self.result = result


class CommandTimeout(CommandFailed):
    """``check=True``: the command ran past its timeout and was killed."""

    def __init__(self, result) -> None:  # noqa: ANN001
        super().__init__(result)
        self.code = "command_timeout"
        self.message = "the command timed out and was killed with its sandbox"


_KINDS = {
    "policy_validation": PolicyError,
    "malformed_request": PolicyError,
    "unsupported_phase": PolicyError,
    "malformed_id": SandboxNotFound,
    "stale_id": SandboxNotFound,
    "not_provisioned": SandboxNotFound,
    "not_started": WrongState,
    "already_started": WrongState,
    "already_stopped": WrongState,
    "backend_unavailable": BackendUnavailable,
    "unsupported_containment": BackendUnavailable,
}


def from_wire(error: dict) -> CordonError:
    """The error of an ``{"error": {...}}`` document, as its class."""
    code = str(error.get("code", "backend_error"))
    cls = _KINDS.get(code, BackendError)
    return cls(code, str(error.get("message", "cordon refused the request")), remediation=error.get("remediation"))
