"""Neither the credential's secret nor the agent token shows in anything the SDK hands back:
answers, headers, exceptions (with their tracebacks) and reprs. Each check has a positive
control: the text searched holds what the requests made, and the upstream did get the secret."""

from __future__ import annotations

import pickle
import traceback
from collections.abc import Callable

import httpx
import pytest
import requests

import aileron
from aileron.requests_adapter import AileronAdapter

from .stack import CREDENTIAL, SECRET, Stack, free_port


def _refusal(call: Callable[[], object]) -> str:
    with pytest.raises(aileron.AileronError) as raised:
        call()
    error = raised.value
    return "\n".join([str(error), repr(error), *traceback.format_exception(error)])


def test_no_secret_or_token_in_answers_errors_or_reprs(stack: Stack) -> None:
    before = len(stack.upstream.seen)
    client = aileron.Client(stack.server, stack.token)
    transport = aileron.Transport(CREDENTIAL, client=client)
    adapter = AileronAdapter(CREDENTIAL, client=client)
    session = requests.Session()
    session.mount(stack.upstream.url("/"), adapter)
    url = stack.upstream.url("/api/user")
    texts: list[str] = []

    answer = client.request(CREDENTIAL, "GET", url)
    texts += [answer.text, repr(answer), repr(answer.headers)]
    via_httpx = httpx.Client(transport=transport).get(url)
    texts += [via_httpx.text, repr(via_httpx.headers)]
    via_requests = session.get(url)
    texts += [via_requests.text, repr(via_requests.headers)]

    texts.append(_refusal(lambda: client.request(CREDENTIAL, "GET", stack.upstream.url("/outside"))))
    texts.append(_refusal(lambda: client.request("absent", "GET", url)))
    texts.append(_refusal(lambda: client.request(CREDENTIAL, "POST", url, content=b"b" * 70_000)))
    texts.append(
        _refusal(lambda: aileron.Client(stack.server, stack.token + "x").request(CREDENTIAL, "GET", url))
    )
    closed = aileron.Client(f"http://127.0.0.1:{free_port()}", stack.token)
    texts.append(_refusal(lambda: closed.request(CREDENTIAL, "GET", url)))
    texts += [repr(client), repr(vars(client)), str(vars(client)), repr(transport), repr(adapter)]
    texts += [repr(aileron.AsyncClient(stack.server, stack.token)), f"{client._token}", repr(closed)]

    everything = "\n".join(texts)
    seen = stack.upstream.seen[before:]
    assert len(seen) == 3 and all(s.header("authorization") == f"Bearer {SECRET}" for s in seen)
    assert everything.count("[REDACTED]") >= 6, "the echoed Authorization came back, redacted"
    for code in ("scope_violation", "not_found", "payload_too_large", "invalid_token", "unreachable"):
        assert code in everything
    assert stack.server in everything
    assert SECRET not in everything
    assert stack.token not in everything
    assert stack.token[len("ail_agent_") :][:16] not in everything


def test_the_token_cannot_be_pickled(stack: Stack) -> None:
    client = aileron.Client(stack.server, stack.token)
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(client._token)
