"""What this host can run: ``cordon probe --json``, as it is."""

from __future__ import annotations

import json
import subprocess
from typing import Any, Dict, Optional

from ._binary import cordon_binary
from .errors import BackendError


def platform_support(binary: Optional[str] = None) -> Dict[str, Any]:
    """cordon's host report: ``isSupported``, ``backends`` (each with
    ``available`` and a ``detail`` saying why not), ``features`` (user
    namespaces, Landlock ABI, seccomp, network rules) and ``schemaVersions``."""
    exe = cordon_binary(binary)
    done = subprocess.run([exe, "probe", "--json"], capture_output=True, timeout=60)
    if done.returncode != 0:
        raise BackendError("backend_error", f"{exe} probe --json failed: {done.stderr.decode(errors='replace').strip()}")
    return json.loads(done.stdout)
