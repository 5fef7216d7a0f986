"""The sync API: :func:`run` for one command in a fresh sandbox, and
:class:`Sandbox` for a long-lived one (provision + start on creation, stop +
deprovision on exit)."""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Tuple, Union

from . import _files, _invoke
from . import _request as req
from ._binary import cordon_binary
from .errors import SandboxNotFound, WrongState
from .policy import PolicyLike
from .result import CommandResult, from_outcome

Data = Union[str, bytes, None]


def _bytes(data: Data) -> Optional[bytes]:
    return data.encode() if isinstance(data, str) else data


def run(
    cmd: req.Command,
    policy: PolicyLike = None,
    *,
    timeout: Optional[float] = None,
    env: Optional[Mapping[str, str]] = None,
    cwd: Optional[str] = None,
    stdin: Data = None,
    check: bool = False,
    binary: Optional[str] = None,
) -> CommandResult:
    """Run ``cmd`` (a shell command line, or a list of words) in a fresh
    sandbox under ``policy`` and return its :class:`CommandResult`.
    ``timeout`` in seconds. A refusal raises a
    :class:`~cordon.errors.CordonError`; a failing command raises only with
    ``check=True``. Ctrl-C kills the whole sandbox."""
    request = req.one_shot(cmd, policy, timeout, env, cwd)
    started = time.monotonic()
    out, err, outcome = _invoke.capture([], request, _bytes(stdin), binary)
    result = from_outcome(outcome, out, err, time.monotonic() - started)
    return result.check() if check else result


class CommandHandle:
    """A command running in the background: ``stdin`` (writable),
    :meth:`wait`, :meth:`kill`."""

    def __init__(self, started: _invoke.Started, on_stdout=None, on_stderr=None) -> None:
        self._started = started
        self._began = time.monotonic()
        self.stdin = started.popen.stdin
        self._out: List[bytes] = []
        self._err: List[bytes] = []
        self._readers = [
            threading.Thread(target=self._pump, args=(started.popen.stdout, self._out, on_stdout), daemon=True),
            threading.Thread(target=self._pump, args=(started.popen.stderr, self._err, on_stderr), daemon=True),
        ]
        for t in self._readers:
            t.start()

    @staticmethod
    def _pump(stream, sink: List[bytes], callback) -> None:
        for chunk in iter(lambda: stream.read1(65536), b""):
            sink.append(chunk)
            if callback is not None:
                callback(chunk.decode("utf-8", "replace"))
        stream.close()

    @property
    def pid(self) -> int:
        """cordon's process id (the command is its descendant)."""
        return self._started.popen.pid

    def wait(self, check: bool = False) -> CommandResult:
        """Wait for the end (closing stdin if still open) and return the result."""
        try:
            if self.stdin is not None and not self.stdin.closed:
                self.stdin.close()
            self._started.popen.wait()
            for t in self._readers:
                t.join()
        except BaseException:
            self._started.stop()
            raise
        result = from_outcome(
            self._started.outcome(), b"".join(self._out), b"".join(self._err), time.monotonic() - self._began
        )
        return result.check() if check else result

    def kill(self) -> None:
        """Kill the command and everything it started."""
        if self._started.popen.poll() is None:
            self._started.popen.terminate()


class Commands:
    """Commands in a running sandbox (``sandbox.commands``)."""

    def __init__(self, sandbox: "Sandbox") -> None:
        self._sandbox = sandbox

    def run(
        self,
        cmd: req.Command,
        *,
        timeout: Optional[float] = None,
        env: Optional[Mapping[str, str]] = None,
        cwd: Optional[str] = None,
        stdin: Data = None,
        check: bool = False,
        background: bool = False,
        on_stdout: Optional[Callable[[str], None]] = None,
        on_stderr: Optional[Callable[[str], None]] = None,
    ) -> Union[CommandResult, CommandHandle]:
        """Run ``cmd`` in the sandbox. ``background=True`` returns a
        :class:`CommandHandle` at once; ``on_stdout``/``on_stderr`` receive
        output as it comes."""
        request = req.exec_request(self._sandbox.id, cmd, timeout, env, cwd)
        if not background and on_stdout is None and on_stderr is None:
            began = time.monotonic()
            out, err, outcome = _invoke.capture([], request, _bytes(stdin), self._sandbox._binary)
            result = from_outcome(outcome, out, err, time.monotonic() - began)
            return result.check() if check else result
        started = _invoke.Started([], request, binary=self._sandbox._binary)
        handle = CommandHandle(started, on_stdout, on_stderr)
        if stdin is not None:
            handle.stdin.write(_bytes(stdin))
            handle.stdin.flush()
        if background:
            return handle
        return handle.wait(check=check)


    def stream(
        self,
        cmd: req.Command,
        *,
        timeout: Optional[float] = None,
        env: Optional[Mapping[str, str]] = None,
        cwd: Optional[str] = None,
    ) -> Iterator[Tuple[str, str]]:
        """``for kind, text in sb.commands.stream(cmd)``: ``("stdout", line)``
        and ``("stderr", line)`` as they come (each stream in order), then
        ``("exit", str(exit_code))``. Leaving the loop early kills the command."""
        request = req.exec_request(self._sandbox.id, cmd, timeout, env, cwd)
        started = _invoke.Started([], request, stdin=subprocess.DEVNULL, binary=self._sandbox._binary)
        events: "queue.Queue[Optional[Tuple[str, str]]]" = queue.Queue()

        def lines(kind: str, stream) -> None:
            for line in iter(stream.readline, b""):
                events.put((kind, line.decode("utf-8", "replace")))
            events.put(None)

        readers = [
            threading.Thread(target=lines, args=("stdout", started.popen.stdout), daemon=True),
            threading.Thread(target=lines, args=("stderr", started.popen.stderr), daemon=True),
        ]
        for t in readers:
            t.start()
        finished = False
        try:
            open_streams = 2
            while open_streams:
                event = events.get()
                if event is None:
                    open_streams -= 1
                else:
                    yield event
            started.popen.wait()
            finished = True
            yield ("exit", str(started.outcome()["exitCode"]))
        finally:
            if not finished:
                started.stop()


class Files:
    """Files of the sandbox, read and written *inside* it (``sandbox.files``):
    the policy applies to them as to any command."""

    def __init__(self, sandbox: "Sandbox") -> None:
        self._sandbox = sandbox

    def read(self, path: str) -> bytes:
        r = self._sandbox.commands.run(_files.read_cmd(path))
        _files.raise_for(r, "reading", path)
        return r.stdout_bytes

    def write(self, path: str, data: Union[str, bytes]) -> None:
        r = self._sandbox.commands.run(_files.write_cmd(path), stdin=_bytes(data))
        _files.raise_for(r, "writing", path)

    def list(self, path: str) -> List[str]:
        r = self._sandbox.commands.run(_files.list_cmd(path))
        _files.raise_for(r, "listing", path)
        return _files.names(r)


def _ls(binary: Optional[str]) -> List[Dict[str, Any]]:
    done = subprocess.run([cordon_binary(binary), "ls", "--json"], capture_output=True, check=True)
    return list(json.loads(done.stdout).get("sandboxes", []))


class Sandbox:
    """A long-lived sandbox. ``with Sandbox.create(policy) as sb:`` provisions
    and starts it, and stops and deprovisions it on exit."""

    def __init__(self, sandbox_id: str, binary: Optional[str] = None) -> None:
        self.id = sandbox_id
        self._binary = binary
        self.commands = Commands(self)
        self.files = Files(self)

    @classmethod
    def create(cls, policy: PolicyLike = None, *, binary: Optional[str] = None) -> "Sandbox":
        """Provision and start a sandbox under ``policy``."""
        result = req.parse_envelope(*_invoke.envelope(req.provision(policy), binary))
        sandbox = cls(result["sandboxId"], binary)
        try:
            sandbox.start()
        except BaseException:
            sandbox.delete()
            raise
        return sandbox

    @classmethod
    def connect(cls, sandbox_id: str, *, binary: Optional[str] = None) -> "Sandbox":
        """A handle on an existing sandbox (raises
        :class:`~cordon.errors.SandboxNotFound` when there is none)."""
        if not any(s.get("sandboxId") == sandbox_id for s in _ls(binary)):
            raise SandboxNotFound("stale_id", f"sandbox {sandbox_id} does not exist (never provisioned, or deprovisioned)")
        return cls(sandbox_id, binary)

    @staticmethod
    def list(*, binary: Optional[str] = None) -> List[Dict[str, Any]]:
        """This user's sandboxes, as ``cordon ls --json`` lists them."""
        return _ls(binary)

    def _phase(self, name: str) -> Dict[str, Any]:
        return req.parse_envelope(*_invoke.envelope(req.phase(name, self.id), self._binary))

    def start(self) -> None:
        self._phase("start")

    def stop(self) -> None:
        """Kill every process of the sandbox; keep its files."""
        self._phase("stop")

    def delete(self) -> None:
        """Stop (when running) and deprovision: nothing of it remains."""
        try:
            self.stop()
        except WrongState:
            pass
        self._phase("deprovision")

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.delete()
