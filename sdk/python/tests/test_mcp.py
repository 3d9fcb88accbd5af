"""`aileron mcp` (the CLI's Model Context Protocol server) driven by the official MCP client (the
`mcp` package's stdio client, not our code), against the real stack: its tools, a request that
reaches the upstream with the secret the model never sees, and refusals that say what to do."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.types import CallToolResult, TextContent

from .stack import CREDENTIAL, SECRET, Stack

T = TypeVar("T")


def with_session(stack: Stack, use: Callable[[ClientSession], Awaitable[T]], **env: str) -> T:
    """Starts `aileron mcp` as the agent (its token only), runs `use` in an initialised session."""
    config = tempfile.mkdtemp(prefix="aileron-mcp-config-")
    params = StdioServerParameters(
        command=str(stack.bin / "aileron"),
        args=["mcp"],
        env={
            "PATH": os.environ.get("PATH", ""),
            "AILERON_SERVER": stack.server,
            "AILERON_TOKEN": stack.token,
            "AILERON_CONFIG_DIR": config,
            **env,
        },
    )

    async def run() -> T:
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            return await use(session)

    return asyncio.run(asyncio.wait_for(run(), timeout=60))


def text(result: CallToolResult) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, TextContent))


def call(stack: Stack, tool: str, arguments: dict[str, Any], **env: str) -> CallToolResult:
    async def use(session: ClientSession) -> CallToolResult:
        return await session.call_tool(tool, arguments)

    return with_session(stack, use, **env)


def test_the_server_offers_three_documented_tools(stack: Stack) -> None:
    async def use(session: ClientSession) -> Any:
        return await session.list_tools()

    tools = {t.name: t for t in with_session(stack, use).tools}
    assert sorted(tools) == ["check_scope", "list_credentials", "request"]
    assert set(tools["request"].input_schema["required"]) == {"credential", "method", "url"}
    assert set(tools["request"].input_schema["properties"]) == {
        "credential",
        "method",
        "url",
        "headers",
        "body",
    }
    for tool in tools.values():
        assert tool.description and len(tool.description) > 60, tool.name


def test_list_credentials_names_each_with_its_rules_in_words(stack: Stack) -> None:
    result = call(stack, "list_credentials", {})
    said = text(result)
    assert not result.is_error, said
    assert said.startswith(f"{CREDENTIAL} (credential, bearer): usable now."), said
    assert f"Allows: GET, POST under {stack.upstream.url('/api/')}" in said
    assert SECRET not in said


def test_a_request_reaches_the_upstream_with_the_secret_the_model_never_sees(stack: Stack) -> None:
    before = len(stack.upstream.seen)
    result = call(
        stack,
        "request",
        {
            "credential": CREDENTIAL,
            "method": "post",
            "url": stack.upstream.url("/api/items"),
            "headers": {"content-type": "application/json"},
            "body": '{"title": "from a model"}',
        },
    )
    said = text(result)
    assert not result.is_error, said
    seen = stack.upstream.seen[before:]
    assert [(s.method, s.path) for s in seen] == [("POST", "/api/items")]
    assert seen[0].header("authorization") == f"Bearer {SECRET}"
    assert seen[0].body == b'{"title": "from a model"}'
    assert said.startswith("HTTP 200\n"), said
    assert "[REDACTED]" in said and SECRET not in said


def test_a_request_outside_the_rules_is_refused_with_the_rules_and_sends_nothing(stack: Stack) -> None:
    before = len(stack.upstream.seen)
    result = call(
        stack,
        "request",
        {"credential": CREDENTIAL, "method": "DELETE", "url": stack.upstream.url("/api/items")},
    )
    said = text(result)
    assert result.is_error
    assert "outside the credential's rules" in said and "retrying the same request will not work" in said
    assert f"GET, POST under {stack.upstream.url('/api/')}" in said
    assert len(stack.upstream.seen) == before


def test_check_scope_answers_like_the_enclave_without_sending(stack: Stack) -> None:
    before = len(stack.upstream.seen)
    inside = call(
        stack,
        "check_scope",
        {"credential": CREDENTIAL, "method": "get", "url": stack.upstream.url("/api/a/../b")},
    )
    assert not inside.is_error
    assert text(inside) == f"Allowed: GET {stack.upstream.url('/api/b')} is inside the rules of {CREDENTIAL}."
    outside = call(
        stack, "check_scope", {"credential": CREDENTIAL, "method": "GET", "url": stack.upstream.url("/x")}
    )
    assert outside.is_error
    assert text(outside).startswith("Not allowed: ") and "matches no allow rule" in text(outside)
    assert len(stack.upstream.seen) == before


def test_an_unknown_credential_is_refused_with_the_names_that_exist(stack: Stack) -> None:
    result = call(
        stack, "request", {"credential": "gitlab", "method": "GET", "url": stack.upstream.url("/api/")}
    )
    assert result.is_error
    assert text(result) == (
        f'No credential named "gitlab" is available to this agent token. Available: {CREDENTIAL}. '
        "Call list_credentials."
    )


def test_a_locked_vault_tells_the_model_the_owner_must_unlock(locked: Stack) -> None:
    listed = text(call(locked, "list_credentials", {}))
    assert "NOT usable now: its owner must unlock the vault" in listed
    result = call(
        locked, "request", {"credential": CREDENTIAL, "method": "GET", "url": locked.upstream.url("/api/")}
    )
    assert result.is_error
    assert "must unlock the vault" in text(result)


def test_a_long_answer_is_cut_to_the_limit_with_a_note(stack: Stack) -> None:
    result = call(
        stack,
        "request",
        {"credential": CREDENTIAL, "method": "GET", "url": stack.upstream.url("/api/user")},
        AILERON_MCP_MAX_BODY="16",
    )
    said = text(result)
    assert not result.is_error, said
    shown, note = said.split("\n\n", 1)[1].split("\n[cut: ", 1)
    assert len(shown.encode()) == 16, said
    assert note.startswith("the first 16 of ") and "AILERON_MCP_MAX_BODY" in note, said
