"""The httpx transports and the async client, against the real stack."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

import aileron

from .stack import CREDENTIAL, SECRET, Stack, free_port


def test_httpx_through_the_transport_gets_the_upstreams_answer(stack: Stack) -> None:
    before = len(stack.upstream.seen)
    with httpx.Client(
        transport=aileron.Transport(CREDENTIAL, server=stack.server, token=stack.token)
    ) as http:
        answer = http.get(stack.upstream.url("/api/user"), params={"q": "a b"}, headers={"x-trace": "t2"})

    seen = stack.upstream.seen[before:]
    assert [(s.method, s.path) for s in seen] == [("GET", "/api/user?q=a+b")]
    assert seen[0].header("authorization") == f"Bearer {SECRET}"
    assert seen[0].header("x-trace") == "t2"
    assert (answer.status_code, answer.json()["saw_authorization"]) == (200, "[REDACTED]")
    assert answer.headers["content-length"] == str(len(answer.content)), (
        "framing made to fit the redacted body"
    )


def test_the_transport_posts_a_body(stack: Stack, client: aileron.Client) -> None:
    with httpx.Client(transport=aileron.Transport(CREDENTIAL, client=client)) as http:
        answer = http.post(stack.upstream.url("/api/items"), json={"n": 1})

    assert stack.upstream.seen[-1].body == b'{"n":1}'
    assert answer.json()["body"] == '{"n":1}'


def test_the_transport_returns_an_upstream_error_status(stack: Stack, client: aileron.Client) -> None:
    with httpx.Client(transport=aileron.Transport(CREDENTIAL, client=client)) as http:
        answer = http.get(stack.upstream.url("/api/status/503"))

    assert answer.status_code == 503
    with pytest.raises(httpx.HTTPStatusError):
        answer.raise_for_status()


def test_the_transport_raises_aileron_refusals(stack: Stack, client: aileron.Client) -> None:
    with httpx.Client(transport=aileron.Transport(CREDENTIAL, client=client)) as http:
        with pytest.raises(aileron.ScopeViolation):
            http.get(stack.upstream.url("/elsewhere"))
        with pytest.raises(aileron.NotFound):
            httpx.Client(transport=aileron.Transport("missing", client=client)).get(
                stack.upstream.url("/api/user")
            )


def test_the_transport_refuses_a_streamed_body_over_the_limit_saying_it_buffers(
    stack: Stack, client: aileron.Client
) -> None:
    def chunks() -> Iterator[bytes]:
        while True:  # endless: the transport must stop reading at the limit
            yield b"z" * 8192

    before = len(stack.upstream.seen)
    transport = aileron.Transport(CREDENTIAL, client=client)
    with httpx.Client(transport=transport) as http, pytest.raises(aileron.PayloadTooLarge) as raised:
        http.post(stack.upstream.url("/api/upload"), content=chunks())

    assert f"more than {aileron.MAX_BODY_BYTES} bytes" in str(raised.value)
    assert "buffers a body" in str(raised.value)
    assert len(stack.upstream.seen) == before


def test_the_transport_sends_a_small_streamed_body_whole(stack: Stack, client: aileron.Client) -> None:
    with httpx.Client(transport=aileron.Transport(CREDENTIAL, client=client)) as http:
        http.post(stack.upstream.url("/api/upload"), content=iter([b"part one, ", b"part two"]))

    assert stack.upstream.seen[-1].body == b"part one, part two"


async def test_the_async_client_makes_a_brokered_request(stack: Stack) -> None:
    async with aileron.AsyncClient(stack.server, stack.token) as client:
        answer = await client.request(CREDENTIAL, "GET", stack.upstream.url("/api/async"))
        listed = await client.credentials()

    assert stack.upstream.seen[-1].header("authorization") == f"Bearer {SECRET}"
    assert answer.json()["path"] == "/api/async"
    assert [c.name for c in listed] == [CREDENTIAL]


async def test_the_async_client_raises_scope_violation_naming_the_rules(stack: Stack) -> None:
    async with aileron.AsyncClient(stack.server, stack.token) as client:
        with pytest.raises(aileron.ScopeViolation) as raised:
            await client.request(CREDENTIAL, "GET", stack.upstream.url("/nope"))

    assert str(aileron.AllowRule(("GET", "POST"), stack.upstream.url("/api/"))) in str(raised.value)


async def test_httpx_async_through_the_async_transport(stack: Stack) -> None:
    transport = aileron.AsyncTransport(CREDENTIAL, server=stack.server, token=stack.token)
    async with httpx.AsyncClient(transport=transport) as http:
        answer = await http.post(stack.upstream.url("/api/items"), content=b"created")
        with pytest.raises(aileron.ScopeViolation):
            await http.put(stack.upstream.url("/api/items/1"), content=b"updated")

    seen = stack.upstream.seen[-1]
    assert (seen.method, seen.body, seen.header("authorization")) == ("POST", b"created", f"Bearer {SECRET}")
    assert (answer.status_code, answer.json()["saw_authorization"]) == (200, "[REDACTED]")


async def test_the_async_transport_refuses_a_streamed_body_over_the_limit(stack: Stack) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"z" * 8192

    transport = aileron.AsyncTransport(CREDENTIAL, server=stack.server, token=stack.token)
    async with httpx.AsyncClient(transport=transport) as http:
        with pytest.raises(aileron.PayloadTooLarge):
            await http.post(stack.upstream.url("/api/upload"), content=chunks())


def test_the_transport_raises_httpx_s_own_error_when_aileron_is_out_of_reach(stack: Stack) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    transport = aileron.Transport(CREDENTIAL, server=closed, token=stack.token)
    with httpx.Client(transport=transport) as http, pytest.raises(httpx.ConnectError) as raised:
        http.get(stack.upstream.url("/api/user"))

    assert raised.value.request.url == stack.upstream.url("/api/user"), "the caller's request, not ours"
    assert "could not reach the Aileron server" in str(raised.value)
    assert stack.token not in str(raised.value)
