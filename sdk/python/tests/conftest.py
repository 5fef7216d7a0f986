"""Shared fixtures: the SDK under test through one facade, so every test
body runs against the sync API and its asyncio twin alike (parity)."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import cordon


class SyncBox:
    def __init__(self, sb: cordon.Sandbox) -> None:
        self.sb = sb
        self.id = sb.id

    def run(self, cmd, **kw):
        return self.sb.commands.run(cmd, **kw)

    def many(self, cmds):
        with ThreadPoolExecutor(len(cmds)) as pool:
            return list(pool.map(self.sb.commands.run, cmds))

    def read(self, path):
        return self.sb.files.read(path)

    def write(self, path, data):
        return self.sb.files.write(path, data)

    def list(self, path):
        return self.sb.files.list(path)

    def background(self, cmd, stdin_text):
        h = self.sb.commands.run(cmd, background=True)
        h.stdin.write(stdin_text.encode())
        h.stdin.flush()
        return h.wait()

    def killed_from_outside(self, cmd, tag):
        h = self.sb.commands.run(cmd, background=True)
        wait_for(tag)
        os.kill(h.pid, 9)
        return h.wait()

    def streamed(self, cmd):
        seen = []
        self.sb.commands.run(cmd, on_stdout=lambda t: seen.append(t))
        events = list(self.sb.commands.stream(cmd))
        assert events[-1] == ("exit", "0")
        assert "".join(t for k, t in events if k == "stdout") == "".join(seen)
        return "".join(seen)


class AsyncBox(SyncBox):
    def __init__(self, sb: cordon.aio.Sandbox, loop: asyncio.AbstractEventLoop) -> None:
        self.sb = sb
        self.id = sb.id
        self.loop = loop

    def _do(self, coro):
        return self.loop.run_until_complete(coro)

    def run(self, cmd, **kw):
        return self._do(self.sb.commands.run(cmd, **kw))

    def many(self, cmds):
        async def all_of():
            return await asyncio.gather(*(self.sb.commands.run(c) for c in cmds))

        return self._do(all_of())

    def read(self, path):
        return self._do(self.sb.files.read(path))

    def write(self, path, data):
        return self._do(self.sb.files.write(path, data))

    def list(self, path):
        return self._do(self.sb.files.list(path))

    def background(self, cmd, stdin_text):
        async def go():
            h = await self.sb.commands.run(cmd, background=True)
            h.stdin.write(stdin_text.encode())
            await h.stdin.drain()
            return await h.wait()

        return self._do(go())

    def killed_from_outside(self, cmd, tag):
        async def go():
            h = await self.sb.commands.run(cmd, background=True)
            await self.loop.run_in_executor(None, wait_for, tag)
            os.kill(h.pid, 9)
            return await h.wait()

        return self._do(go())

    def streamed(self, cmd):
        async def go():
            seen = []
            async for kind, text in self.sb.commands.stream(cmd):
                if kind == "stdout":
                    seen.append(text)
            return "".join(seen)

        return self._do(go())


class Api:
    """One face over both APIs: ``api.run``, ``api.sandbox(policy)``."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.loop = asyncio.new_event_loop() if kind == "async" else None

    def run(self, cmd, policy=None, **kw):
        if self.loop is None:
            return cordon.run(cmd, policy, **kw)
        return self.loop.run_until_complete(cordon.aio.run(cmd, policy, **kw))

    def create(self, policy=None):
        if self.loop is None:
            return SyncBox(cordon.Sandbox.create(policy))
        return AsyncBox(self.loop.run_until_complete(cordon.aio.Sandbox.create(policy)), self.loop)

    def delete(self, box):
        if self.loop is None:
            box.sb.delete()
        else:
            self.loop.run_until_complete(box.sb.delete())

    def close(self):
        if self.loop is not None:
            self.loop.close()


@pytest.fixture(params=["sync", "async"])
def api(request):
    a = Api(request.param)
    yield a
    a.close()


@pytest.fixture
def box(api):
    b = api.create()
    yield b
    api.delete(b)


@pytest.fixture
def scratch():
    d = tempfile.mkdtemp(prefix="cordon-py-test-")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def marker(name: str) -> str:
    return f"{name}-{os.getpid()}-{secrets.token_hex(4)}"


def pids_with(tag: str):
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if tag.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


def wait_for(tag: str, seconds: float = 30.0) -> None:
    """Until a process carrying ``tag`` runs (the control of a kill test)."""
    end = time.monotonic() + seconds
    while not pids_with(tag):
        assert time.monotonic() < end, f"control: no process carrying {tag} ever ran"
        time.sleep(0.02)


def gone(tag: str, seconds: float = 10.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if not pids_with(tag):
            return True
        time.sleep(0.05)
    return False
