"""Where the cordon binary is: ``CORDON_BIN``, else the one this wheel
installed (beside the Python scripts), else ``cordon`` on ``PATH``."""

from __future__ import annotations

import os
import shutil
import sysconfig

from .errors import BackendUnavailable


def _wheel_binary() -> str | None:
    schemes = [sysconfig.get_default_scheme()]
    if os.name == "posix":
        schemes.append("posix_user")
    for scheme in schemes:
        try:
            scripts = sysconfig.get_path("scripts", scheme)
        except KeyError:
            continue
        path = os.path.join(scripts, "cordon")
        if os.access(path, os.X_OK):
            return path
    return None


def cordon_binary(explicit: str | None = None) -> str:
    """The cordon binary this SDK drives; raises :class:`BackendUnavailable`
    naming what was tried."""
    chosen = explicit or os.environ.get("CORDON_BIN")
    if chosen:
        if not os.access(chosen, os.X_OK):
            what = "binary" if explicit else "CORDON_BIN"
            raise BackendUnavailable(
                "backend_unavailable",
                f"{what}={chosen}: not an executable file",
                remediation=f"point {what} at the cordon binary, or unset it to use the wheel's",
            )
        return chosen
    found = _wheel_binary() or shutil.which("cordon")
    if found is None:
        raise BackendUnavailable(
            "backend_unavailable",
            "no cordon binary: CORDON_BIN is unset, the wheel's own is not installed and there is "
            "no cordon on PATH",
            remediation="pip install cordon-sandbox (the wheel carries the binary), or set CORDON_BIN",
        )
    return found
