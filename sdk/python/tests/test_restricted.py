"""An agent token restricted to one credential cannot reach the owner's other one through any way
in: the client, the httpx transport, the requests adapter, or `aileron mcp`. The other secret
never reaches the upstream, and the other credential is not even listed."""

from __future__ import annotations

import httpx
import pytest
import requests

import aileron
from aileron.requests_adapter import AileronAdapter

from .stack import CREDENTIAL, OTHER, OTHER_SECRET, Stack
from .test_mcp import call, text


def test_the_other_credential_is_neither_listed_nor_usable(stack: Stack) -> None:
    before = len(stack.upstream.seen)
    url = stack.upstream.url("/api/user")
    client = aileron.Client(stack.server, stack.token)
    assert [c.name for c in client.credentials()] == [CREDENTIAL]

    with pytest.raises(aileron.NotFound):
        client.request(OTHER, "GET", url)
    with pytest.raises(aileron.NotFound):
        httpx.Client(transport=aileron.Transport(OTHER, client=client)).get(url)
    session = requests.Session()
    session.mount(stack.upstream.url("/"), AileronAdapter(OTHER, client=client))
    with pytest.raises(aileron.NotFound):
        session.get(url)

    listed = call(stack, "list_credentials", {})
    assert OTHER not in text(listed)
    refused = call(stack, "request", {"credential": OTHER, "method": "GET", "url": url})
    assert refused.is_error and f'No credential named "{OTHER}"' in text(refused)
    checked = call(stack, "check_scope", {"credential": OTHER, "method": "GET", "url": url})
    assert checked.is_error

    assert len(stack.upstream.seen) == before, "nothing reached the upstream"
    # Positive control: the owner can use it, so the refusals above are the token's restriction.
    stack.cli("request", "GET", url, "--credential", OTHER)
    assert stack.upstream.seen[-1].header("authorization") == f"Bearer {OTHER_SECRET}"
