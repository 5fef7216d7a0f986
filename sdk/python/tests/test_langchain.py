"""An agent loop with LangChain's real package (langchain-core from PyPI):
a chat model asks for tool calls, the loop runs them through
CordonShellTool, a deny rule holds, and the model reads the results. The
model is langchain-core's scripted one (no network, no key); the tool and
the loop are LangChain's own."""

from __future__ import annotations

import asyncio
import os

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

import cordon
from cordon.integrations.langchain import CordonShellTool


def agent_loop(model, tools, question, use_async=False):
    by_name = {t.name: t for t in tools}
    history = [HumanMessage(question)]
    while True:
        reply = model.invoke(history)
        history.append(reply)
        if not reply.tool_calls:
            return history
        for call in reply.tool_calls:
            tool = by_name[call["name"]]
            out = asyncio.run(tool.ainvoke(call)) if use_async else tool.invoke(call)
            assert isinstance(out, ToolMessage)
            history.append(out)


def scripted(calls):
    turns = [AIMessage(content="", tool_calls=[{"name": "shell", "args": {"command": c}, "id": f"call{i}"}]) for i, c in enumerate(calls)]
    return GenericFakeChatModel(messages=iter(turns + [AIMessage(content="done")]))


def _fixture(scratch):
    project = os.path.join(scratch, "project")
    secrets_dir = os.path.join(project, "secrets")
    os.makedirs(secrets_dir)
    with open(os.path.join(project, "README"), "w") as f:
        f.write("public-readme")
    with open(os.path.join(secrets_dir, "token"), "w") as f:
        f.write("sk-live-secret")
    for root, dirs, files in os.walk(scratch):
        for name in dirs:
            os.chmod(os.path.join(root, name), 0o755)
        for name in files:
            os.chmod(os.path.join(root, name), 0o644)
    return project, secrets_dir


def test_a_tool_call_runs_in_cordon_and_the_deny_rule_holds(scratch):
    project, secrets_dir = _fixture(scratch)
    policy = cordon.Policy(readonly=[project], denied=[secrets_dir])
    for use_async in (False, True):
        tool = CordonShellTool(policy=policy)
        history = agent_loop(
            scripted([f"cat {project}/README", f"cat {secrets_dir}/token", "cat /etc/shadow"]),
            [tool],
            "read the project",
            use_async=use_async,
        )
        results = [m.content for m in history if isinstance(m, ToolMessage)]
        assert len(results) == 3
        assert "exit code: 0" in results[0] and "public-readme" in results[0]  # control
        assert "sk-live-secret" not in results[1] and "exit code: 0" not in results[1]
        assert "exit code: 0" not in results[2]
        assert history[-1].content == "done"


def test_the_tool_in_a_long_lived_sandbox_keeps_state(scratch):
    with cordon.Sandbox.create() as sb:
        tool = CordonShellTool(sandbox=sb)
        history = agent_loop(scripted(["echo remembered > /tmp/n", "cat /tmp/n"]), [tool], "remember")
        results = [m.content for m in history if isinstance(m, ToolMessage)]
        assert "remembered" in results[1]
