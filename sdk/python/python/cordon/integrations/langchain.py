"""A LangChain tool that runs an agent's shell commands inside cordon.

Every call runs in a fresh sandbox under ``policy`` (or in a long-lived
``sandbox``), so what the model asks for is bounded by the policy, not by
the model's good behaviour. Needs ``langchain-core`` (``pip install
langchain-core``)::

    from cordon.integrations.langchain import CordonShellTool
    tool = CordonShellTool(policy=cordon.Policy(readonly=["/srv/repo"]))
    llm_with_tools = llm.bind_tools([tool])
"""

from __future__ import annotations

from typing import Any, Optional, Type

from langchain_core.tools import BaseTool
from pydantic import BaseModel, ConfigDict, Field

from .. import aio, run
from ..result import CommandResult


class ShellInput(BaseModel):
    """The tool's one argument."""

    command: str = Field(description="A shell command line to run in the sandbox")


def describe(result: CommandResult) -> str:
    """What the model reads back: exit code, stdout, stderr, timeout."""
    parts = [f"exit code: {result.exit_code}"]
    if result.timed_out:
        parts.append("the command timed out and was killed")
    parts.append(f"stdout:\n{result.stdout}")
    if result.stderr:
        parts.append(f"stderr:\n{result.stderr}")
    return "\n".join(parts)


class CordonShellTool(BaseTool):
    """Run a shell command inside a cordon sandbox and return its output."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    name: str = "shell"
    description: str = (
        "Run a shell command line inside a sandbox and return its exit code, stdout and stderr. "
        "Only paths the sandbox's policy grants are visible; the network is limited by it too."
    )
    args_schema: Type[BaseModel] = ShellInput
    #: The policy of each one-shot run (a cordon.Policy or an MXC config dict).
    policy: Any = None
    #: A long-lived cordon.Sandbox (or cordon.aio.Sandbox) to run in instead.
    sandbox: Any = None
    #: Seconds before the command is killed with its sandbox.
    timeout: Optional[float] = 60.0

    def _run(self, command: str, run_manager: Any = None) -> str:
        if self.sandbox is not None:
            return describe(self.sandbox.commands.run(command, timeout=self.timeout))
        return describe(run(command, self.policy, timeout=self.timeout))

    async def _arun(self, command: str, run_manager: Any = None) -> str:
        if self.sandbox is not None:
            return describe(await self.sandbox.commands.run(command, timeout=self.timeout))
        return describe(await aio.run(command, self.policy, timeout=self.timeout))
