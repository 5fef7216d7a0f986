"""`cordon mcp` driven by the official MCP Python client (PyPI `mcp`) over
stdio: initialize, list tools, create sandboxes within the server's
ceiling (and refusals beyond it), run commands, file helpers that obey
denied paths, and the clean-up when the client disconnects."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

CORDON = os.environ["CORDON_BIN"]


def sandboxes():
    return json.loads(subprocess.run([CORDON, "ls", "--json"], capture_output=True, check=True).stdout)["sandboxes"]


def pids_with(tag):
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if tag.encode() in f.read():
                        found.append(pid)
            except OSError:
                pass
    return found


@pytest.fixture
def scratch():
    d = tempfile.mkdtemp(prefix="cordon-mcp-test-")
    os.chmod(d, 0o755)
    for sub in ("work", "work/secret", "other"):
        os.mkdir(os.path.join(d, sub))
        os.chmod(os.path.join(d, sub), 0o777)
    for name, text in (("work/notes", "public"), ("work/secret/key", "sk-secret"), ("other/x", "other")):
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
        os.chmod(os.path.join(d, name), 0o666)
    yield d
    shutil.rmtree(d, ignore_errors=True)


async def session_run(args, body):
    params = StdioServerParameters(command=CORDON, args=["mcp", *args])
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            return await body(session)


def call(session, name, arguments):
    return session.call_tool(name, arguments)


def test_tools_commands_files_ceiling_and_cleanup(scratch):
    work = os.path.join(scratch, "work")
    tag = f"mcp-left-{secrets.token_hex(4)}"
    before = {s["sandboxId"] for s in sandboxes()}

    async def body(s):
        names = {t.name for t in (await s.list_tools()).tools}
        assert {"sandbox_create", "sandbox_list", "sandbox_start", "sandbox_stop", "sandbox_destroy",
                "command_run", "file_read", "file_write", "file_list"} <= names
        tool = next(t for t in (await s.list_tools()).tools if t.name == "command_run")
        assert "command" in tool.input_schema["properties"]

        # One-shot, under the server's own policy.
        r = await call(s, "command_run", {"command": "echo out; echo err >&2; exit 3"})
        assert not r.is_error
        assert (r.structured_content["exit_code"], r.structured_content["stdout"]) == (3, "out\n")
        assert "err" in r.structured_content["stderr"]
        r = await call(s, "command_run", {"command": "sleep 30", "timeout_seconds": 0.3})
        assert r.structured_content["timed_out"] is True

        # Wider than the ceiling: refused, naming the limit.
        for ask, needle in (
            ({"readonly": ["/etc"]}, "readonly: /etc is outside"),
            ({"readwrite": [os.path.join(scratch, "other")]}, "readwrite:"),
            ({"allow_hosts": ["example.org"]}, "allow_hosts: example.org"),
            ({"presets": ["git"]}, "presets: git"),
        ):
            r = await call(s, "sandbox_create", ask)
            assert r.is_error, ask
            assert needle in r.content[0].text, r.content[0].text
        # Control: the same shape within the ceiling works.
        r = await call(s, "sandbox_create", {"readwrite": [work], "denied": [os.path.join(work, "secret")]})
        assert not r.is_error, r.content[0].text
        sid = r.structured_content["sandbox_id"]

        runs = await asyncio.gather(*(call(s, "command_run", {"sandbox_id": sid, "command": f"echo n{i}"}) for i in range(10)))
        assert [x.structured_content["stdout"] for x in runs] == [f"n{i}\n" for i in range(10)]
        r = await call(s, "command_run", {"sandbox_id": sid, "command": 'read l; echo "$l:$V"', "stdin": "in\n", "env": {"V": "env"}})
        assert r.structured_content["stdout"] == "in:env\n"

        r = await call(s, "file_read", {"sandbox_id": sid, "path": f"{work}/notes"})
        assert r.structured_content["content"] == "public"  # control
        r = await call(s, "file_read", {"sandbox_id": sid, "path": f"{work}/secret/key"})
        assert r.is_error and "sk-secret" not in r.content[0].text
        r = await call(s, "file_write", {"sandbox_id": sid, "path": f"{work}/secret/new", "content": "x"})
        assert r.is_error
        assert not os.path.exists(f"{work}/secret/new")
        r = await call(s, "file_write", {"sandbox_id": sid, "path": f"{work}/made", "content": "made-here"})
        assert not r.is_error
        with open(f"{work}/made") as f:
            assert f.read() == "made-here"
        r = await call(s, "file_list", {"sandbox_id": sid, "path": work})
        assert "notes" in r.structured_content["names"]

        listed = (await call(s, "sandbox_list", {})).structured_content["sandboxes"]
        assert [x["sandbox_id"] for x in listed] == [sid]
        r = await call(s, "sandbox_stop", {"sandbox_id": sid})
        assert r.structured_content["state"] == "provisioned"
        r = await call(s, "command_run", {"sandbox_id": sid, "command": "true"})
        assert r.is_error and "not_started" in r.content[0].text
        await call(s, "sandbox_start", {"sandbox_id": sid})
        # Another user's or an unknown sandbox is not reachable.
        r = await call(s, "command_run", {"sandbox_id": "native:" + "0" * 32, "command": "true"})
        assert r.is_error and "not a sandbox this server created" in r.content[0].text

        # A second sandbox left running with a process in it at disconnect.
        r = await call(s, "sandbox_create", {})
        left = r.structured_content["sandbox_id"]
        r = await call(s, "command_run", {"sandbox_id": left, "command": f"sh -c 'sleep 300; :' {tag} >/dev/null 2>&1 & echo started"})
        assert r.structured_content["stdout"] == "started\n"
        end = time.monotonic() + 10
        while not pids_with(tag) and time.monotonic() < end:
            await asyncio.sleep(0.05)
        assert pids_with(tag), "control: the left process runs before the disconnect"
        return sid, left

    sid, left = asyncio.run(session_run(["--ro", "/usr", "--rw", work], body))
    # Disconnected: both sandboxes, their processes and their state are gone.
    end = time.monotonic() + 10
    while pids_with(tag) and time.monotonic() < end:
        time.sleep(0.05)
    assert not pids_with(tag), "a process of a sandbox outlived the session"
    remaining = {s["sandboxId"] for s in sandboxes()} - before
    assert not remaining & {sid, left}, remaining


def test_limits_above_the_ceiling_are_refused_before_anything_runs():
    before = {s["sandboxId"] for s in sandboxes()}

    async def body(s):
        r = await call(s, "sandbox_create", {"memory_mb": 100000})
        assert r.is_error and "memory_mb: 100000 is above this server's limit 512" in r.content[0].text
        r = await call(s, "sandbox_create", {"max_processes": 5000})
        assert r.is_error and "max_processes: 5000 is above this server's limit 64" in r.content[0].text

    asyncio.run(session_run(["--memory-mb", "512", "--pids", "64"], body))
    assert {s["sandboxId"] for s in sandboxes()} == before


def test_background_commands_output_stdin_and_kill():
    tag = f"mcp-bg-{secrets.token_hex(4)}"

    async def until(s, cid, check):
        end = time.monotonic() + 30
        while True:
            r = await call(s, "command_output", {"command_id": cid})
            assert not r.is_error, r.content[0].text
            if check(r.structured_content) or time.monotonic() > end:
                return r.structured_content
            await asyncio.sleep(0.05)

    async def body(s):
        sid = (await call(s, "sandbox_create", {})).structured_content["sandbox_id"]
        r = await call(s, "command_run", {"sandbox_id": sid, "background": True,
                                          "command": 'for i in 1 2 3; do echo tick$i; done; read x; echo "got:$x"; exit 4'})
        cid = r.structured_content["command_id"]
        assert r.structured_content["running"] is True
        out = await until(s, cid, lambda o: "tick3" in o["stdout"])
        assert out["running"] is True and out["exit_code"] is None
        r = await call(s, "command_write_stdin", {"command_id": cid, "text": "hello\n", "close": True})
        assert not r.is_error
        out = await until(s, cid, lambda o: not o["running"])
        assert (out["exit_code"], out["stdout"]) == (4, "tick1\ntick2\ntick3\ngot:hello\n")
        r = await call(s, "command_write_stdin", {"command_id": cid, "text": "more"})
        assert r.is_error and "closed" in r.content[0].text

        # A long-running one, killed: it and what it started are gone.
        r = await call(s, "command_run", {"sandbox_id": sid, "background": True,
                                          "command": f"sh -c 'sleep 300; :' {tag}"})
        cid = r.structured_content["command_id"]
        end = time.monotonic() + 10
        while not pids_with(tag) and time.monotonic() < end:
            await asyncio.sleep(0.05)
        assert pids_with(tag), "control: the background command runs"
        assert not (await call(s, "command_kill", {"command_id": cid})).is_error
        out = await until(s, cid, lambda o: not o["running"])
        assert out["killed"] is True and out["exit_code"] != 0
        end = time.monotonic() + 10
        while pids_with(tag) and time.monotonic() < end:
            await asyncio.sleep(0.05)
        assert not pids_with(tag), "the killed command's process remains"
        r = await call(s, "command_output", {"command_id": "cmd-999"})
        assert r.is_error and "not a background command" in r.content[0].text

        # One still running at disconnect is killed with the session.
        await call(s, "command_run", {"background": True, "command": f"sh -c 'sleep 300; :' {tag}-late"})
        end = time.monotonic() + 10
        while not pids_with(f"{tag}-late") and time.monotonic() < end:
            await asyncio.sleep(0.05)
        assert pids_with(f"{tag}-late")

    asyncio.run(session_run([], body))
    end = time.monotonic() + 10
    while pids_with(tag) and time.monotonic() < end:
        time.sleep(0.05)
    assert not pids_with(tag), "a background command outlived the session"


def test_keep_leaves_sandboxes_after_disconnect():
    async def body(s):
        return (await call(s, "sandbox_create", {})).structured_content["sandbox_id"]

    sid = asyncio.run(session_run(["--keep"], body))
    try:
        assert sid in {s["sandboxId"] for s in sandboxes()}
    finally:
        subprocess.run([CORDON, "stop", sid], capture_output=True)
        subprocess.run([CORDON, "deprovision", sid], capture_output=True, check=True)


async def held_by_ceiling(s, work, other):
    """The operator's ceiling allows `work` only, the server `work` and `other`."""
    r = await call(s, "sandbox_create", {"readonly": [other]})
    assert r.is_error and "operator's ceiling" in r.content[0].text, r.content[0].text
    # Control: what both allow is created, and runs.
    r = await call(s, "sandbox_create", {"readonly": [work]})
    assert not r.is_error, r.content[0].text
    sid = r.structured_content["sandbox_id"]
    r = await call(s, "command_run", {"sandbox_id": sid, "command": f"cat {work}/notes"})
    assert r.structured_content["stdout"] == "public", r.structured_content


def served_with_ceiling_file(ceiling_doc, server_ro, work, other):
    """A server with `--ro server_ro` and CORDON_CEILING naming a file that
    holds `ceiling_doc`, checked by held_by_ceiling."""
    d = tempfile.mkdtemp(prefix="cordon-mcp-ceiling-")
    try:
        ceiling = os.path.join(d, "ceiling.json")
        with open(ceiling, "w") as f:
            json.dump(ceiling_doc, f)
        os.chmod(ceiling, 0o644)
        params = StdioServerParameters(
            command=CORDON,
            args=["mcp", "--ro", server_ro],
            env={**os.environ, "CORDON_CEILING": ceiling},
        )

        async def run():
            async with stdio_client(params) as (read, write):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    await held_by_ceiling(session, work, other)

        asyncio.run(run())
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_the_operators_ceiling_holds_the_servers_sandboxes(scratch):
    """The server's own flags may allow more than the host's operator does:
    the operator's ceiling (here named by host root with CORDON_CEILING,
    as /etc/cordon/ceiling.json would be) still refuses it. As an
    unprivileged user, see test_the_system_ceiling_holds_an_unprivileged_server."""
    if os.getuid() != 0:
        pytest.skip("only host root can name a ceiling with CORDON_CEILING")
    work, other = os.path.join(scratch, "work"), os.path.join(scratch, "other")
    served_with_ceiling_file(
        {"version": 1, "filesystem": {"readonly": [work], "readwrite": []}}, scratch, work, other
    )


def test_the_system_ceiling_holds_an_unprivileged_server():
    """run.sh runs this as cordon-test in a mount namespace where root's
    /etc/cordon/ceiling.json allows BASE/work only. The user's own
    CORDON_CEILING, naming an open ceiling, changes nothing."""
    base = os.environ.get("CORDON_MCP_SYSTEM_CEILING")
    if not base:
        pytest.skip("run by run.sh as cordon-test under a system ceiling")
    assert os.getuid() != 0, "meant for an unprivileged user"
    work, other = os.path.join(base, "work"), os.path.join(base, "other")
    served_with_ceiling_file({"version": 1}, base, work, other)


def test_policy_and_denials_say_why_a_request_failed():
    async def body(s):
        r = await call(s, "sandbox_create", {"allow_hosts": ["a.example.test"]})
        assert not r.is_error, r.content[0].text
        sid = r.structured_content["sandbox_id"]
        r = await call(s, "sandbox_policy", {"sandbox_id": sid})
        assert not r.is_error, r.content[0].text
        policy = r.structured_content
        assert "a.example.test" in json.dumps(policy["config"]), policy
        assert "a.example.test" in json.dumps(policy["effective"]["network"]), policy
        # Control: nothing refused yet.
        r = await call(s, "sandbox_denials", {"sandbox_id": sid})
        assert r.structured_content["denials"] == [], r.structured_content
        fetch = (
            "python3 -c \"import urllib.request,sys\n"
            "try: urllib.request.urlopen('http://denied.example.test/', timeout=10)\n"
            "except Exception as e: print('refused', e); sys.exit(3)\""
        )
        r = await call(s, "command_run", {"sandbox_id": sid, "command": fetch})
        out = r.structured_content
        assert out["exit_code"] == 3 and "refused" in out["stdout"], out
        assert [d["destination"] for d in out["denials"]] == ["denied.example.test"], out
        r = await call(s, "sandbox_denials", {"sandbox_id": sid})
        denials = r.structured_content["denials"]
        assert [(d["destination"], d["port"]) for d in denials] == [("denied.example.test", 80)], denials
        assert denials[0]["rule"], denials
        # Another agent's (or no) sandbox is not this server's to read.
        r = await call(s, "sandbox_denials", {"sandbox_id": "native:" + "0" * 32})
        assert r.is_error and "stale_id" in r.content[0].text

    asyncio.run(session_run(["--allow-host", "a.example.test"], body))


def test_streamable_http_needs_the_token_and_cleans_up_when_stopped():
    import re
    import signal
    import urllib.error
    import urllib.request
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    token = secrets.token_hex(16)
    server = subprocess.Popen(
        [CORDON, "mcp", "--http", "127.0.0.1:0"],
        env={**os.environ, "CORDON_MCP_TOKEN": token},
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        line = server.stderr.readline()
        found = re.search(r"at (http://\S+)", line)
        assert found, line
        url = found.group(1)
        hello = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping"}).encode()
        for headers in ({}, {"Authorization": "Bearer " + "0" * 32}):
            request = urllib.request.Request(
                url, data=hello, method="POST",
                headers={"Content-Type": "application/json", "Accept": "application/json, text/event-stream", **headers},
            )
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=10)
            assert refused.value.code == 401

        async def body():
            client = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
            async with client, streamable_http_client(url, http_client=client) as streams:
                read, write = streams[0], streams[1]
                async with ClientSession(read, write) as s:
                    await s.initialize()
                    r = await call(s, "sandbox_create", {})
                    assert not r.is_error, r.content[0].text
                    sid = r.structured_content["sandbox_id"]
                    r = await call(s, "command_run", {"sandbox_id": sid, "command": "echo over-http"})
                    assert r.structured_content["stdout"] == "over-http\n", r.structured_content
                    return sid

        sid = asyncio.run(body())
        # Control: the sandbox outlives the client's session while the server runs.
        assert sid in {s["sandboxId"] for s in sandboxes()}
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0
        assert sid not in {s["sandboxId"] for s in sandboxes()}
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
