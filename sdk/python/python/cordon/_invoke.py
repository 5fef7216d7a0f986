"""One cordon process (sync): the request goes in on a pipe
(``--config-fd``: never on the command line or on disk), the outcome comes
back on another (``--outcome-fd``: never mixed with the workload's bytes);
stdin, stdout and stderr are the workload's own."""

from __future__ import annotations

import os
import subprocess
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

from ._binary import cordon_binary
from ._request import encode, parse_outcome


def pipes() -> Tuple[int, int, int, int]:
    """(config read, config write, outcome read, outcome write)."""
    config_r, config_w = os.pipe()
    outcome_r, outcome_w = os.pipe()
    return config_r, config_w, outcome_r, outcome_w


def send(fd: int, data: bytes) -> None:
    """Write the request and close: cordon reads it to its end."""
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    except BrokenPipeError:
        pass  # cordon refused before reading it all; its outcome says why
    finally:
        os.close(fd)


def read_all(fd: int) -> bytes:
    chunks = []
    try:
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
    finally:
        os.close(fd)


class Started:
    """A started cordon and the descriptor its outcome arrives on."""

    def __init__(
        self,
        args: Sequence[str],
        request: Mapping[str, Any],
        *,
        stdin: Any = subprocess.PIPE,
        stdout: Any = subprocess.PIPE,
        stderr: Any = subprocess.PIPE,
        binary: Optional[str] = None,
    ) -> None:
        exe = cordon_binary(binary)
        config_r, config_w, self._outcome_r, outcome_w = pipes()
        try:
            self.popen = subprocess.Popen(
                [exe, *args, "--config-fd", str(config_r), "--outcome-fd", str(outcome_w)],
                stdin=stdin,
                stdout=stdout,
                stderr=stderr,
                pass_fds=(config_r, outcome_w),
            )
        except BaseException:
            for fd in (config_w, self._outcome_r):
                os.close(fd)
            raise
        finally:
            os.close(config_r)
            os.close(outcome_w)
        send(config_w, encode(request))

    def outcome(self) -> Dict[str, Any]:
        """After the process ended: its outcome, or raise its error."""
        return parse_outcome(read_all(self._outcome_r), self.popen.returncode)

    def stop(self) -> None:
        """Tell cordon to stop: it kills every process of the sandbox."""
        if self.popen.poll() is None:
            self.popen.terminate()
        try:
            self.popen.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
        try:
            os.close(self._outcome_r)
        except OSError:
            pass


def capture(args: Sequence[str], request: Mapping[str, Any], stdin: Optional[bytes], binary: Optional[str] = None):
    """Run to completion; (stdout, stderr, outcome). Interrupted (Ctrl-C or
    any exception), cordon is stopped first, so nothing survives."""
    started = Started(args, request, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL, binary=binary)
    try:
        out, err = started.popen.communicate(stdin)
    except BaseException:
        started.stop()
        raise
    return out, err, started.outcome()


def envelope(request: Mapping[str, Any], binary: Optional[str] = None) -> Tuple[bytes, bytes]:
    """A lifecycle phase other than exec: (stdout, stderr) holding its envelope."""
    started = Started([], request, stdin=subprocess.DEVNULL, binary=binary)
    try:
        out, err = started.popen.communicate()
    except BaseException:
        started.stop()
        raise
    read_all(started._outcome_r)
    return out, err
