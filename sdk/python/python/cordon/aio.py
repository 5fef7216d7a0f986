"""The asyncio twin of the sync API, with the same names: :func:`run`,
:class:`Sandbox` (``async with Sandbox.create(policy) as sb``),
``sb.commands.run`` / ``sb.commands.stream``, ``sb.files``. Cancelling the
task that awaits a command kills its whole sandbox."""

from __future__ import annotations

import asyncio
import json
import os
import time
from typing import Any, AsyncIterator, Callable, Dict, List, Mapping, Optional, Tuple, Union

from . import _files
from . import _request as req
from ._binary import cordon_binary
from ._invoke import RequestPipes, read_all
from .errors import SandboxNotFound, WrongState
from .policy import PolicyLike
from .result import CommandResult, from_outcome

Data = Union[str, bytes, None]
PIPE = asyncio.subprocess.PIPE


def _bytes(data: Data) -> Optional[bytes]:
    return data.encode() if isinstance(data, str) else data


class _Started:
    """A started cordon (asyncio) and the descriptor of its outcome."""

    proc: asyncio.subprocess.Process

    @classmethod
    async def start(cls, request: Mapping[str, Any], *, stdin: Any, binary: Optional[str]) -> "_Started":
        self = cls()
        exe = cordon_binary(binary)
        ends = RequestPipes()
        try:
            self.proc = await asyncio.create_subprocess_exec(
                exe, *ends.flags(), stdin=stdin, stdout=PIPE, stderr=PIPE, pass_fds=ends.child_ends()
            )
        except BaseException:
            ends.failed()
            raise
        # A request is small and cordon reads it first thing.
        self._outcome_r = ends.started(request)
        return self

    def outcome(self) -> Dict[str, Any]:
        return req.parse_outcome(read_all(self._outcome_r), self.proc.returncode)

    def discard(self) -> None:
        try:
            os.close(self._outcome_r)
        except OSError:
            pass

    async def stop(self) -> None:
        """cordon kills every process of the sandbox on SIGTERM."""
        if self.proc.returncode is None:
            try:
                self.proc.terminate()
            except ProcessLookupError:
                pass
        try:
            await asyncio.wait_for(self.proc.wait(), 30)
        except asyncio.TimeoutError:
            self.proc.kill()
            await self.proc.wait()
        self.discard()


async def _capture(request: Mapping[str, Any], stdin: Optional[bytes], binary: Optional[str]) -> Tuple[bytes, bytes, Dict[str, Any]]:
    started = await _Started.start(request, stdin=PIPE if stdin is not None else asyncio.subprocess.DEVNULL, binary=binary)
    try:
        out, err = await started.proc.communicate(stdin)
    except BaseException:
        await asyncio.shield(started.stop())
        raise
    return out, err, started.outcome()


async def run(
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
    """:func:`cordon.run`, awaitable."""
    request = req.one_shot(cmd, policy, timeout, env, cwd)
    began = time.monotonic()
    out, err, outcome = await _capture(request, _bytes(stdin), binary)
    result = from_outcome(outcome, out, err, time.monotonic() - began)
    return result.check() if check else result


class CommandHandle:
    """A background command: ``stdin`` (a StreamWriter), :meth:`wait`, :meth:`kill`."""

    def __init__(self, started: _Started, on_stdout=None, on_stderr=None) -> None:
        self._started = started
        self._began = time.monotonic()
        self.stdin = started.proc.stdin
        self._out: List[bytes] = []
        self._err: List[bytes] = []
        self._pumps = [
            asyncio.ensure_future(self._pump(started.proc.stdout, self._out, on_stdout)),
            asyncio.ensure_future(self._pump(started.proc.stderr, self._err, on_stderr)),
        ]

    @staticmethod
    async def _pump(stream: asyncio.StreamReader, sink: List[bytes], callback) -> None:
        while True:
            chunk = await stream.read(65536)
            if not chunk:
                return
            sink.append(chunk)
            if callback is not None:
                callback(chunk.decode("utf-8", "replace"))

    @property
    def pid(self) -> int:
        return self._started.proc.pid

    async def wait(self, check: bool = False) -> CommandResult:
        try:
            if self.stdin is not None and not self.stdin.is_closing():
                self.stdin.close()
            await self._started.proc.wait()
            await asyncio.gather(*self._pumps)
        except BaseException:
            await asyncio.shield(self._started.stop())
            raise
        result = from_outcome(self._started.outcome(), b"".join(self._out), b"".join(self._err), time.monotonic() - self._began)
        return result.check() if check else result

    def kill(self) -> None:
        if self._started.proc.returncode is None:
            self._started.proc.terminate()


class Commands:
    """``sandbox.commands``, awaitable."""

    def __init__(self, sandbox: "Sandbox") -> None:
        self._sandbox = sandbox

    async def run(
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
        request = req.exec_request(self._sandbox.id, cmd, timeout, env, cwd)
        if not background and on_stdout is None and on_stderr is None:
            began = time.monotonic()
            out, err, outcome = await _capture(request, _bytes(stdin), self._sandbox._binary)
            result = from_outcome(outcome, out, err, time.monotonic() - began)
            return result.check() if check else result
        started = await _Started.start(request, stdin=PIPE, binary=self._sandbox._binary)
        handle = CommandHandle(started, on_stdout, on_stderr)
        if stdin is not None:
            handle.stdin.write(_bytes(stdin))
            await handle.stdin.drain()
        if background:
            return handle
        return await handle.wait(check=check)

    async def stream(
        self,
        cmd: req.Command,
        *,
        timeout: Optional[float] = None,
        env: Optional[Mapping[str, str]] = None,
        cwd: Optional[str] = None,
    ) -> AsyncIterator[Tuple[str, str]]:
        """``async for kind, text in sb.commands.stream(cmd)``: ``("stdout",
        line)`` and ``("stderr", line)`` as they come (each stream in order),
        then ``("exit", str(exit_code))``. Leaving the loop early kills the command."""
        request = req.exec_request(self._sandbox.id, cmd, timeout, env, cwd)
        started = await _Started.start(request, stdin=asyncio.subprocess.DEVNULL, binary=self._sandbox._binary)
        queue: asyncio.Queue = asyncio.Queue()

        async def lines(kind: str, stream: asyncio.StreamReader) -> None:
            async for line in stream:
                await queue.put((kind, line.decode("utf-8", "replace")))

        pumps = [
            asyncio.ensure_future(lines("stdout", started.proc.stdout)),
            asyncio.ensure_future(lines("stderr", started.proc.stderr)),
        ]
        done = asyncio.ensure_future(asyncio.gather(*pumps))
        try:
            while not (done.done() and queue.empty()):
                getter = asyncio.ensure_future(queue.get())
                await asyncio.wait([getter, done], return_when=asyncio.FIRST_COMPLETED)
                if getter.done():
                    yield getter.result()
                else:
                    getter.cancel()
            await started.proc.wait()
            outcome = started.outcome()
            yield ("exit", str(outcome["exitCode"]))
        finally:
            if started.proc.returncode is None:
                await asyncio.shield(started.stop())
            for p in pumps:
                p.cancel()


class Files:
    """``sandbox.files``, awaitable; performed inside the sandbox."""

    def __init__(self, sandbox: "Sandbox") -> None:
        self._sandbox = sandbox

    async def read(self, path: str) -> bytes:
        r = await self._sandbox.commands.run(_files.read_cmd(path))
        _files.raise_for(r, "reading", path)
        return r.stdout_bytes

    async def write(self, path: str, data: Union[str, bytes]) -> None:
        r = await self._sandbox.commands.run(_files.write_cmd(path), stdin=_bytes(data))
        _files.raise_for(r, "writing", path)

    async def list(self, path: str) -> List[str]:
        r = await self._sandbox.commands.run(_files.list_cmd(path))
        _files.raise_for(r, "listing", path)
        return _files.names(r)


async def _envelope(request: Mapping[str, Any], binary: Optional[str]) -> Dict[str, Any]:
    started = await _Started.start(request, stdin=asyncio.subprocess.DEVNULL, binary=binary)
    try:
        out, err = await started.proc.communicate()
    except BaseException:
        await asyncio.shield(started.stop())
        raise
    started.discard()
    return req.parse_envelope(out, err)


async def _ls(binary: Optional[str]) -> List[Dict[str, Any]]:
    proc = await asyncio.create_subprocess_exec(cordon_binary(binary), "ls", "--json", stdout=PIPE, stderr=PIPE)
    out, _ = await proc.communicate()
    return list(json.loads(out).get("sandboxes", []))


class _Creating:
    """``await Sandbox.create(...)`` or ``async with Sandbox.create(...) as sb``."""

    def __init__(self, policy: PolicyLike, binary: Optional[str]) -> None:
        self._policy, self._binary = policy, binary
        self._sandbox: Optional[Sandbox] = None

    async def _create(self) -> "Sandbox":
        result = await _envelope(req.provision(self._policy), self._binary)
        sandbox = Sandbox(result["sandboxId"], self._binary)
        try:
            await sandbox.start()
        except BaseException:
            await asyncio.shield(sandbox.delete())
            raise
        return sandbox

    def __await__(self):
        return self._create().__await__()

    async def __aenter__(self) -> "Sandbox":
        self._sandbox = await self._create()
        return self._sandbox

    async def __aexit__(self, *exc: Any) -> None:
        assert self._sandbox is not None
        await asyncio.shield(self._sandbox.delete())


class Sandbox:
    """The asyncio twin of :class:`cordon.Sandbox`."""

    def __init__(self, sandbox_id: str, binary: Optional[str] = None) -> None:
        self.id = sandbox_id
        self._binary = binary
        self.commands = Commands(self)
        self.files = Files(self)

    @classmethod
    def create(cls, policy: PolicyLike = None, *, binary: Optional[str] = None) -> _Creating:
        return _Creating(policy, binary)

    @classmethod
    async def connect(cls, sandbox_id: str, *, binary: Optional[str] = None) -> "Sandbox":
        if not any(s.get("sandboxId") == sandbox_id for s in await _ls(binary)):
            raise SandboxNotFound("stale_id", f"sandbox {sandbox_id} does not exist (never provisioned, or deprovisioned)")
        return cls(sandbox_id, binary)

    @staticmethod
    async def list(*, binary: Optional[str] = None) -> List[Dict[str, Any]]:
        return await _ls(binary)

    async def _phase(self, name: str) -> Dict[str, Any]:
        return await _envelope(req.phase(name, self.id), self._binary)

    async def start(self) -> None:
        await self._phase("start")

    async def stop(self) -> None:
        await self._phase("stop")

    async def delete(self) -> None:
        try:
            await self.stop()
        except WrongState:
            pass
        await self._phase("deprovision")

    async def __aenter__(self) -> "Sandbox":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await asyncio.shield(self.delete())
