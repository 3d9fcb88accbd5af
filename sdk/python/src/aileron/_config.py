"""Where the server is and the token that opens it, from arguments or the environment."""

from __future__ import annotations

import os
from typing import NoReturn
from urllib.parse import urlsplit

from .errors import ConfigurationError


class Token:
    """A bearer token that no repr, str, format or pickle prints."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        # A header value: visible ASCII only, so the token can neither split the request nor be
        # mangled; the error does not echo it.
        if not value or not all(33 <= ord(c) <= 126 for c in value):
            _refuse("the token is empty or holds characters a header cannot carry")
        self._value = value

    def authorization(self) -> str:
        """The `Authorization` header value: the only place the token is read."""
        return f"Bearer {self._value}"

    def __repr__(self) -> str:
        return "Token(<redacted>)"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __reduce__(self) -> NoReturn:
        raise TypeError("an Aileron token cannot be pickled")


def resolve(server: str | None, token: str | None) -> tuple[str, Token]:
    """The server's base URL (no trailing slash) and the token; arguments win over
    AILERON_SERVER and AILERON_TOKEN, and neither may be missing (empty counts as missing)."""
    server = server or os.environ.get("AILERON_SERVER") or None
    secret = token or os.environ.get("AILERON_TOKEN") or None
    if server is None:
        _refuse("no server: pass server= or set AILERON_SERVER")
    if secret is None:
        _refuse("no token: pass token= or set AILERON_TOKEN (an agent token, ail_agent_…)")
    parts = urlsplit(server)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        _refuse(
            f"the server must be an http(s) base URL, such as https://aileron.example.com, not {server!r}"
        )
    return server.rstrip("/"), Token(secret)


def _refuse(message: str) -> NoReturn:
    raise ConfigurationError("configuration", message)
