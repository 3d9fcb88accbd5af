"""docs/agents.md's Python examples and its MCP configuration block, run as written against the
real stack. Only the upstream's address changes (https://api.github.com/ becomes the local
recording server's); the environment holds AILERON_SERVER and AILERON_TOKEN as the guide says."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import re
from pathlib import Path

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from .stack import SECRET, Stack

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "agents.md"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", GUIDE.read_text(), flags=re.S)


def local(text: str, stack: Stack) -> str:
    """The example aimed at the stack: GitHub's repository prefix is the credential's rule."""
    return text.replace("https://api.github.com/repos/acme/", stack.upstream.url("/api/")).replace(
        "https://api.github.com/", stack.upstream.url("/")
    )


def run(code: str, stack: Stack, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AILERON_SERVER", stack.server)
    monkeypatch.setenv("AILERON_TOKEN", stack.token)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(local(code, stack), str(GUIDE), "exec"), {})  # noqa: S102 (the guide is ours)
    return out.getvalue()


def test_the_guide_has_the_examples_this_test_runs() -> None:
    assert len(blocks("python")) == 3
    assert len(blocks("json")) == 1


def test_the_client_example_lists_and_requests(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    before = len(stack.upstream.seen)
    printed = run(blocks("python")[0], stack, monkeypatch)
    assert printed.splitlines()[0] == f"github active ['GET,POST {stack.upstream.url('/api/')}']"
    assert printed.splitlines()[1].startswith(
        "200 {'login': 'octocat', 'method': 'GET', 'path': '/api/widgets'"
    )
    assert stack.upstream.seen[before].header("authorization") == f"Bearer {SECRET}"
    assert SECRET not in printed


def test_the_httpx_example_uses_the_credential(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    before = len(stack.upstream.seen)
    assert run(blocks("python")[1], stack, monkeypatch) == "200 5\n"
    assert stack.upstream.seen[before].path == "/api/widgets/issues?state=open"


def test_the_refusal_example_catches_scope_violation(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    assert run(blocks("python")[2], stack, monkeypatch) == "outside the rules: scope_violation\n"


def test_the_mcp_configuration_block_starts_a_working_server(stack: Stack) -> None:
    entry = json.loads(blocks("json")[0])["mcpServers"]["aileron"]
    env = dict(entry["env"], AILERON_SERVER=stack.server, AILERON_TOKEN=stack.token)
    # `"command": "aileron"` as written: found on PATH.
    env["PATH"] = f"{stack.bin}{os.pathsep}{os.environ.get('PATH', '')}"
    params = StdioServerParameters(command=entry["command"], args=entry["args"], env=env)

    async def tools() -> list[str]:
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            return sorted(t.name for t in (await session.list_tools()).tools)

    assert asyncio.run(asyncio.wait_for(tools(), 60)) == ["check_scope", "list_credentials", "request"]
