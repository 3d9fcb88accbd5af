"""The values the SDK hands back: an upstream's answer and the credentials a token may use."""

from __future__ import annotations

import json as _json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

Source = Literal["credential", "escrow"]
"""Where a name lives: a vault credential (`/v1/credentials/…`) or a sealed escrow (`/v1/escrows/…`)."""

Headers = list[tuple[str, str]]
"""Headers as `(name, value)` pairs, in order, repeated names kept."""


@dataclass(frozen=True)
class Response:
    """The upstream's answer, as the enclave received it, with every form of the secret
    replaced by `[REDACTED]`. An upstream 4xx or 5xx is a `Response`, not an exception."""

    status: int
    headers: Headers
    content: bytes

    def header(self, name: str) -> str | None:
        """The first value of the header `name` (case-insensitive), or None."""
        wanted = name.lower()
        return next((v for n, v in self.headers if n.lower() == wanted), None)

    @property
    def ok(self) -> bool:
        """Whether the status is below 400."""
        return self.status < 400

    @property
    def text(self) -> str:
        """The body decoded with the charset of its Content-Type (UTF-8 when none is named)."""
        return self.content.decode(_charset(self.header("content-type")), errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON."""
        return _json.loads(self.content)

    def __repr__(self) -> str:
        return f"<aileron.Response {self.status}, {len(self.content)} bytes>"


def _charset(content_type: str | None) -> str:
    for param in (content_type or "").split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key.lower() == "charset" and value:
            candidate = value.strip('"')
            try:
                "".encode(candidate)
            except LookupError:
                break
            return candidate
    return "utf-8"


@dataclass(frozen=True)
class AllowRule:
    """One allow rule of a credential's scope: these methods, on URLs under this prefix (the
    path continues the prefix's on a segment boundary; the enclave does the matching)."""

    methods: tuple[str, ...]
    url_prefix: str

    def __str__(self) -> str:
        return f"{','.join(self.methods)} {self.url_prefix}"


@dataclass(frozen=True)
class Credential:
    """A credential or escrow this token may use, as `GET /v1/agent/credentials` lists it.

    `status` is `active`, `lost` (the enclave restarted), `unavailable` (the enclave holding it
    does not answer now), `expired`, `not_escrowed` (the vault is locked) or `server`
    (server-trust mode: usable while the owner's vault session is open).
    Unknown future values are passed through. `allow` is None for a sealed escrow: its owner
    sealed its rules and the server keeps no copy.
    """

    name: str
    source: Source
    kind: str | None
    allow: tuple[AllowRule, ...] | None
    status: str
    expires_at: datetime | None
    max_uses: int | None

    @property
    def usable(self) -> bool:
        """Whether requests with it can succeed now (`active`, or `server` in server-trust mode)."""
        return self.status in ("active", "server")


@dataclass(frozen=True)
class ScopeVerdict:
    """Whether a request is inside a credential's rules (`Client.check_scope`), answered by the
    server with the enclave's own scope code: `url` is the URL as it would be called when
    `allowed`, `reason` says why not otherwise."""

    allowed: bool
    url: str | None
    reason: str | None
