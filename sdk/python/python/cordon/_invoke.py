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


class RequestPipes:
    """The two pipes of one cordon: the request in, the outcome out."""

    def __init__(self) -> None:
        self.config_r, self.config_w = os.pipe()
        self.outcome_r, self.outcome_w = os.pipe()

    def flags(self) -> list:
        """cordon's flags naming the child's ends."""
        return ["--config-fd", str(self.config_r), "--outcome-fd", str(self.outcome_w)]

    def child_ends(self) -> Tuple[int, int]:
        return (self.config_r, self.outcome_w)

    def started(self, request: Mapping[str, Any]) -> int:
        """After the child started: close its ends here, send the request;
        returns the descriptor the outcome arrives on."""
        os.close(self.config_r)
        os.close(self.outcome_w)
        send(self.config_w, encode(request))
        return self.outcome_r

    def failed(self) -> None:
        """The child did not start: close every end."""
        for fd in (self.config_r, self.config_w, self.outcome_r, self.outcome_w):
            os.close(fd)


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
        ends = RequestPipes()
        try:
            self.popen = subprocess.Popen(
                [exe, *args, *ends.flags()],
                stdin=stdin,
                stdout=stdout,
                stderr=stderr,
                pass_fds=ends.child_ends(),
            )
        except BaseException:
            ends.failed()
            raise
        try:
            self._outcome_r = ends.started(request)
        except BaseException:
            # Interrupted while handing over the request: nothing may survive.
            self.popen.kill()
            self.popen.wait()
            raise

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
