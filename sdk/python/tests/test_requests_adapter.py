"""The requests adapter, against the real stack."""

from __future__ import annotations

import io

import pytest
import requests

import aileron
from aileron.requests_adapter import AileronAdapter

from .stack import CREDENTIAL, SECRET, Stack, free_port


@pytest.fixture
def session(stack: Stack) -> requests.Session:
    session = requests.Session()
    session.mount(stack.upstream.url("/"), AileronAdapter(CREDENTIAL, server=stack.server, token=stack.token))
    return session


def test_a_mounted_session_gets_the_upstreams_answer(stack: Stack, session: requests.Session) -> None:
    before = len(stack.upstream.seen)
    answer = session.get(stack.upstream.url("/api/user"), params={"page": 3}, headers={"x-trace": "t3"})

    seen = stack.upstream.seen[before:]
    assert [(s.method, s.path) for s in seen] == [("GET", "/api/user?page=3")]
    assert seen[0].header("authorization") == f"Bearer {SECRET}"
    assert (answer.status_code, answer.json()["saw_authorization"]) == (200, "[REDACTED]")
    assert answer.headers["x-echo-authorization"] == "[REDACTED]"
    assert answer.reason == "OK" and answer.url == stack.upstream.url("/api/user?page=3")


def test_the_adapter_posts_bodies_of_every_kind(stack: Stack, session: requests.Session) -> None:
    session.post(stack.upstream.url("/api/items"), json={"k": "v"})
    assert stack.upstream.seen[-1].body == b'{"k": "v"}'
    session.post(stack.upstream.url("/api/items"), data=io.BytesIO(b"from a file"))
    assert stack.upstream.seen[-1].body == b"from a file"
    session.post(stack.upstream.url("/api/items"), data=iter([b"chunk ", b"by chunk"]))
    assert stack.upstream.seen[-1].body == b"chunk by chunk"


def test_the_adapter_returns_an_upstream_error_status(stack: Stack, session: requests.Session) -> None:
    answer = session.get(stack.upstream.url("/api/status/418"))

    assert answer.status_code == 418
    with pytest.raises(requests.HTTPError):
        answer.raise_for_status()


def test_the_adapter_raises_aileron_refusals(stack: Stack, session: requests.Session) -> None:
    with pytest.raises(aileron.ScopeViolation):
        session.get(stack.upstream.url("/outside"))


def test_the_adapter_refuses_a_body_over_the_limit(stack: Stack, session: requests.Session) -> None:
    before = len(stack.upstream.seen)
    with pytest.raises(aileron.PayloadTooLarge) as raised:
        session.post(stack.upstream.url("/api/upload"), data=io.BytesIO(b"q" * (aileron.MAX_BODY_BYTES + 10)))

    assert "buffers a body" in str(raised.value)
    assert len(stack.upstream.seen) == before


def test_the_adapter_streams_the_buffered_answer(stack: Stack, session: requests.Session) -> None:
    answer = session.get(stack.upstream.url("/api/user"), stream=True)

    streamed = b"".join(answer.iter_content(7))

    assert b'"login": "octocat"' in streamed
    assert answer.headers["content-length"] == str(len(streamed))


def test_the_adapter_raises_requests_own_error_when_aileron_is_out_of_reach(stack: Stack) -> None:
    session = requests.Session()
    closed = f"http://127.0.0.1:{free_port()}"
    session.mount(stack.upstream.url("/"), AileronAdapter(CREDENTIAL, server=closed, token=stack.token))
    with pytest.raises(requests.ConnectionError) as raised:
        session.get(stack.upstream.url("/api/user"))

    assert isinstance(raised.value.__cause__, aileron.ConnectionFailed)
    assert stack.token not in str(raised.value)
