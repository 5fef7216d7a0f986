"""One-shot runs, long-lived sandboxes, streaming, files, errors and
cancellation, against the real binary; every test body runs on the sync
API and on its asyncio twin (the ``api`` fixture)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import threading
import time

import pytest

import cordon
from conftest import gone, marker, pids_with


def test_one_shot_streams_env_cwd_stdin(api, scratch):
    r = api.run("echo out; echo err >&2; exit 7")
    assert (r.exit_code, r.stdout, r.stderr, r.timed_out) == (7, "out\n", "err\n", False)
    assert r.duration > 0
    r = api.run(["sh", "-c", 'read l; echo "$l:$GREETING"; pwd'], cordon.Policy(readonly=[scratch]), env={"GREETING": "hi"}, cwd=scratch, stdin="in\n")
    assert (r.exit_code, r.stdout) == (0, f"in:hi\n{scratch}\n"), r.stderr


def test_timeout_and_check(api):
    began = time.monotonic()
    r = api.run("sleep 30", timeout=0.4)
    assert r.timed_out and r.exit_code != 0
    assert time.monotonic() - began < 20
    with pytest.raises(cordon.CommandTimeout):
        api.run("sleep 30", timeout=0.3, check=True)
    with pytest.raises(cordon.CommandFailed) as failed:
        api.run("echo partial; exit 3", check=True)
    assert failed.value.result.stdout == "partial\n"
    assert api.run("true", check=True).ok


def test_a_path_outside_the_policy_is_denied_and_granted_it_reads(api, scratch):
    secret = os.path.join(scratch, "secret")
    with open(secret, "w") as f:
        f.write("top-secret")
    os.chmod(secret, 0o644)
    denied = api.run(f"cat {secret}")
    assert denied.exit_code != 0 and "top-secret" not in denied.stdout
    allowed = api.run(f"cat {secret}", cordon.Policy(readonly=[scratch]))  # control
    assert allowed.stdout == "top-secret"
    wrote = api.run(f"echo x > {scratch}/new", cordon.Policy(readonly=[scratch]))
    assert wrote.exit_code != 0 and not os.path.exists(f"{scratch}/new")


def test_raw_mxc_configs_are_taken_as_they_are(api, scratch):
    config = {"version": "0.6.0-alpha", "filesystem": {"readonlyPaths": [scratch]}, "process": {"commandLine": "ignored"}}
    r = api.run(f"ls {scratch}", config)
    assert r.exit_code == 0, r.stderr


def test_long_lived_twenty_concurrent_commands(api, box, scratch):
    results = box.many([f"echo n{i}; echo e{i} >&2; exit {i % 4}" for i in range(20)])
    for i, r in enumerate(results):
        assert (r.stdout, r.stderr, r.exit_code) == (f"n{i}\n", f"e{i}\n", i % 4)
    box.run("echo kept > /tmp/state")
    assert box.run("cat /tmp/state").stdout == "kept\n"


def test_background_stdin_and_streaming_order(api, box):
    r = box.background('read x; echo "got:$x"', "typed\n")
    assert (r.exit_code, r.stdout) == (0, "got:typed\n")
    text = box.streamed("i=1; while [ $i -le 300 ]; do echo line$i; i=$((i+1)); done")
    assert text.split() == [f"line{i}" for i in range(1, 301)]


def test_files_inside_the_sandbox_obey_denied_paths(api, scratch):
    open_dir = os.path.join(scratch, "open")
    closed = os.path.join(scratch, "closed")
    for d in (open_dir, closed):
        os.mkdir(d)
        os.chmod(d, 0o777)
        with open(os.path.join(d, "f"), "w") as f:
            f.write("content")
        os.chmod(os.path.join(d, "f"), 0o666)
    box = api.create(cordon.Policy(readwrite=[scratch], denied=[closed]))
    try:
        assert box.read(f"{open_dir}/f") == b"content"  # control
        assert box.list(open_dir) == ["f"]
        box.write(f"{open_dir}/g", "new")
        with open(f"{open_dir}/g") as f:
            assert f.read() == "new"
        with pytest.raises(PermissionError):
            box.read(f"{closed}/f")
        with pytest.raises(PermissionError):
            box.write(f"{closed}/h", "x")
        with pytest.raises((PermissionError, FileNotFoundError)):
            box.list(closed)
        assert not os.path.exists(f"{closed}/h")
        with pytest.raises(FileNotFoundError):
            box.read("/no/such/file")
    finally:
        api.delete(box)


def test_every_error_class_from_a_real_refusal(api):
    with pytest.raises(cordon.PolicyError) as e:
        api.run("true", cordon.Policy(readonly=["/no/such/dir"]))
    assert e.value.code == "policy_validation" and "/no/such/dir" in e.value.message
    with pytest.raises(cordon.BackendUnavailable) as e:
        api.run("true", {"version": "1.0.0", "containment": "lxc", "lxc": {"distribution": "alpine", "release": "3.19"}})
    assert e.value.code == "backend_unavailable"
    with pytest.raises(cordon.BackendUnavailable) as e:
        api.run("true", cordon.Policy(backend="seatbelt"))
    assert e.value.code == "unsupported_containment"
    with pytest.raises(cordon.SandboxNotFound):
        if api.loop is None:
            cordon.Sandbox.connect("native:" + "0" * 32)
        else:
            api.loop.run_until_complete(cordon.aio.Sandbox.connect("native:" + "0" * 32))
    box = api.create()
    try:
        with pytest.raises(cordon.WrongState) as e:
            api.loop.run_until_complete(box.sb.start()) if api.loop else box.sb.start()
        assert e.value.code == "already_started"
    finally:
        api.delete(box)
    with pytest.raises(cordon.SandboxNotFound) as e:
        box.run("true")
    assert e.value.code == "stale_id"
    with pytest.raises(cordon.SandboxNotFound) as e:
        type(box)(type(box.sb)("not-an-id"), *( [api.loop] if api.loop else [])).run("true")
    assert e.value.code == "malformed_id"


def test_backend_error_when_cordon_is_killed_from_outside(api):
    tag = marker("py-killed")
    box = api.create()
    try:
        with pytest.raises(cordon.BackendError):
            box.killed_from_outside(f"sleep 300 # {tag}", tag)
        # The command dies with the exec that ran it, not only at deprovision.
        assert gone(tag), f"the command outlived its killed exec: {tag}"
    finally:
        api.delete(box)


def test_cancellation_leaves_no_process(api):
    tag = marker("py-cancel")
    if api.loop is None:
        def interrupt_once_running():
            end = time.monotonic() + 30
            while not pids_with(tag) and time.monotonic() < end:
                time.sleep(0.02)
            os.kill(os.getpid(), signal.SIGINT)

        threading.Thread(target=interrupt_once_running, daemon=True).start()
        with pytest.raises(KeyboardInterrupt):
            cordon.run(f"sleep 300 # {tag}")
    else:
        async def go():
            task = asyncio.ensure_future(cordon.aio.run(f"sleep 300 # {tag}"))
            end = time.monotonic() + 30
            while not pids_with(tag) and time.monotonic() < end:
                await asyncio.sleep(0.02)
            assert pids_with(tag), "control: the sandbox was running"
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

        api.loop.run_until_complete(go())
    assert gone(tag), f"processes remain: {tag}"


def test_network_egress_rule_admits_its_destination_only(api):
    lab = "10.207.0.1"
    have = f"{lab}/32" in subprocess.run(["ip", "-4", "-o", "addr", "show", "dev", "lo"], capture_output=True, text=True).stdout
    added = False
    if not have:
        if os.getuid() != 0:
            pytest.fail(f"the lab address {lab}/32 is not on lo; run as root or add it (ip addr add {lab}/32 dev lo)")
        subprocess.run(["ip", "addr", "add", f"{lab}/32", "dev", "lo"], check=True)
        added = True
    import socket

    server = socket.socket()
    server.bind((lab, 0))
    server.listen(4)
    port = server.getsockname()[1]

    def serve():
        for _ in range(2):
            try:
                conn, _ = server.accept()
            except OSError:
                return
            conn.sendall(b"lab-hello\n")
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    try:
        probe = f"bash -c 'exec 3<>/dev/tcp/{lab}/{port} && cat <&3'"
        ok = api.run(probe, cordon.Policy(allow_hosts=[f"{lab}/32"]), timeout=20)
        assert ok.stdout == "lab-hello\n", ok.stderr  # control
        denied = api.run(probe, cordon.Policy(allow_hosts=["10.207.0.2/32"]), timeout=20)
        assert denied.exit_code != 0 and "lab-hello" not in denied.stdout
    finally:
        server.close()
        if added:
            subprocess.run(["ip", "addr", "del", f"{lab}/32", "dev", "lo"], check=True)


def test_discovery_helpers_and_listing(api, scratch):
    support = cordon.platform_support()
    assert support["isSupported"] is True
    assert any(b["available"] for b in support["backends"])
    tools = cordon.available_tools_policy({"PATH": "/usr/bin:.:/no/such:/bin"})
    assert tools.readonly_paths == ["/usr/bin", "/bin"]
    temp = cordon.temporary_files_policy({"TMPDIR": scratch})
    assert oct(os.stat(temp.temp_directory).st_mode & 0o777) == "0o700"
    assert cordon.user_profile_policy({"HOME": scratch}).readonly_paths == []
    box = api.create()
    try:
        listed = cordon.Sandbox.list()
        assert any(s["sandboxId"] == box.id for s in listed)
        again = cordon.Sandbox.connect(box.id)
        assert again.commands.run("echo same").stdout == "same\n"
    finally:
        api.delete(box)
    assert not any(s["sandboxId"] == box.id for s in cordon.Sandbox.list())


def test_the_binary_comes_from_the_wheel_unless_overridden():
    if os.environ.get("CORDON_BIN"):
        pytest.fail("run the suite without CORDON_BIN: it checks the wheel's own binary")
    import sys

    assert cordon.cordon_binary() == os.path.join(os.path.dirname(sys.executable), "cordon")
