"""The protocol, once: how a brokered request is encoded and how answers are read.

Nothing here does I/O, so the sync and async clients share every rule.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from .errors import AileronError, PayloadTooLarge, UnexpectedResponse, error_for
from .models import AllowRule, Credential, Headers, Response, ScopeVerdict, Source

MAX_REQUEST_BYTES = 64 * 1024
"""The server refuses request bodies (the whole JSON document) larger than this (413)."""

MAX_BODY_BYTES = MAX_REQUEST_BYTES * 3 // 4
"""No upstream body larger than this can fit: base64 makes 4 characters of 3 bytes. The real
limit is lower by the size of the method, URL and headers; the SDK checks the exact size."""

MAX_ANSWER_BYTES = 32 * 1024 * 1024
"""Answers are read up to this (the enclave's 10 MiB upstream cap, base64, with room to spare),
so a hostile server cannot make a client allocate without bound."""

_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
_B64U = re.compile(r"[A-Za-z0-9_-]*")

# Headers an HTTP library adds by itself that the broker refuses or sets itself: dropped from
# requests made through the transports, so that a plain httpx or requests call works.
AUTOMATIC_REQUEST_HEADERS = frozenset(
    {
        "host",
        "connection",
        "content-length",
        "transfer-encoding",
        "accept-encoding",
        "keep-alive",
        "te",
        "trailer",
        "upgrade",
        "proxy-connection",
    }
)

# Framing of the upstream's answer, which no longer describes the (redacted, buffered) body.
FRAMING_RESPONSE_HEADERS = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})


def b64u(data: bytes) -> str:
    """Unpadded base64url, as Aileron's wire uses it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def from_b64u(text: str) -> bytes:
    """The bytes of unpadded base64url; anything else is an unexpected answer."""
    if not _B64U.fullmatch(text) or len(text) % 4 == 1:
        raise _unexpected("a body that is not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error:
        raise _unexpected("a body that is not base64url") from None


def request_path(name: str, source: Source) -> str:
    """`/v1/credentials/{name}/requests` or `/v1/escrows/{name}/requests`."""
    if not _NAME.fullmatch(name) or set(name) == {"."}:
        raise error_for(
            "invalid_request",
            f"{name!r} is not a credential name (1 to 64 of A-Z a-z 0-9 . _ -, not only dots)",
            None,
            None,
        )
    if source not in ("credential", "escrow"):
        raise error_for(
            "invalid_request", f"source must be 'credential' or 'escrow', not {source!r}", None, None
        )
    return f"/v1/{source}s/{name}/requests"


def header_pairs(headers: Mapping[str, str] | Iterable[tuple[str, str]] | None) -> Headers:
    """Headers given as a mapping or as pairs, as pairs."""
    if headers is None:
        return []
    items = headers.items() if isinstance(headers, Mapping) else headers
    return [(str(name), str(value)) for name, value in items]


def encode_request(method: str, url: str, headers: Headers, body: bytes | None) -> bytes:
    """The JSON of a brokered request, refused here when the server would refuse its size."""
    document: dict[str, Any] = {"method": method.upper(), "url": url}
    if headers:
        document["headers"] = [[name, value] for name, value in headers]
    if body:
        document["body"] = b64u(body)
    encoded = json.dumps(document, separators=(",", ":")).encode()
    if len(encoded) > MAX_REQUEST_BYTES:
        raise body_too_large(len(body or b""), exact=True)
    return encoded


def body_too_large(size: int, *, exact: bool) -> PayloadTooLarge:
    """The SDK's own refusal of a body that cannot fit in a brokered request."""
    amount = f"{size} bytes" if exact else f"more than {size} bytes"
    return PayloadTooLarge(
        "payload_too_large",
        f"the request body is {amount}: Aileron buffers a body and sends it base64-encoded "
        f"inside a JSON request that the server caps at {MAX_REQUEST_BYTES} bytes, so a body "
        f"may be at most {MAX_BODY_BYTES} bytes less the size of the URL and headers; nothing "
        "was sent",
    )


def read_answer(status: int, retry_after: str | None, data: bytes) -> Response:
    """A 200 as the upstream's answer; anything else as the matching exception."""
    if status != 200:
        raise read_error(status, retry_after, data)
    document = _json(data)
    upstream = document.get("status")
    headers = document.get("headers")
    body = document.get("body")
    if not (isinstance(upstream, int) and 100 <= upstream <= 999 and isinstance(body, str)):
        raise _unexpected("an answer without a status and a body")
    return Response(status=upstream, headers=_pairs(headers), content=from_b64u(body))


def read_error(status: int, retry_after: str | None, data: bytes) -> AileronError:
    """The exception for an error answer `{"error": {"code", "message", "request_id"}}`."""
    try:
        error = _json(data).get("error")
    except UnexpectedResponse:
        error = None
    if not isinstance(error, dict) or not isinstance(error.get("code"), str):
        return UnexpectedResponse(
            "unexpected_response", f"the server answered HTTP {status} without an Aileron error", None, status
        )
    message = error.get("message")
    request_id = error.get("request_id")
    return error_for(
        error["code"],
        message if isinstance(message, str) else "",
        request_id if isinstance(request_id, str) else None,
        status,
        _seconds(retry_after),
    )


def read_credentials(status: int, retry_after: str | None, data: bytes) -> list[Credential]:
    """The answer of `GET /v1/agent/credentials`."""
    if status != 200:
        raise read_error(status, retry_after, data)
    document = _json_any(data)
    if not isinstance(document, list):
        raise _unexpected("a credential list that is not a list")
    return [_credential(item) for item in document]


def _credential(item: Any) -> Credential:
    if not isinstance(item, dict):
        raise _unexpected("a credential that is not an object")
    name, source, status = item.get("name"), item.get("source"), item.get("status")
    kind, expires_at, max_uses = item.get("kind"), item.get("expires_at"), item.get("max_uses")
    if not (isinstance(name, str) and isinstance(status, str) and source in ("credential", "escrow")):
        raise _unexpected("a credential without a name, source and status")
    if not (kind is None or isinstance(kind, str)) or not (max_uses is None or isinstance(max_uses, int)):
        raise _unexpected("a credential with a malformed kind or max_uses")
    if not (expires_at is None or isinstance(expires_at, int)):
        raise _unexpected("a credential with a malformed expires_at")
    return Credential(
        name=name,
        source="credential" if source == "credential" else "escrow",
        kind=kind,
        allow=None if item.get("allow") is None else tuple(_rule(rule) for rule in _list(item.get("allow"))),
        status=status,
        expires_at=None if expires_at is None else datetime.fromtimestamp(expires_at, UTC),
        max_uses=max_uses,
    )


def read_verdict(status: int, retry_after: str | None, data: bytes) -> ScopeVerdict:
    """The answer of `POST /v1/scope/check`."""
    if status != 200:
        raise read_error(status, retry_after, data)
    document = _json(data)
    allowed, url, reason = document.get("allowed"), document.get("url"), document.get("reason")
    if not isinstance(allowed, bool) or not all(v is None or isinstance(v, str) for v in (url, reason)):
        raise _unexpected("a scope verdict without allowed, url and reason")
    return ScopeVerdict(allowed=allowed, url=url, reason=reason)


def encode_check(name: str, method: str, url: str) -> bytes:
    """The body of `POST /v1/scope/check` for a stored credential."""
    return json.dumps({"credential": name, "method": method.upper(), "url": url}).encode()


def _rule(rule: Any) -> AllowRule:
    if not isinstance(rule, dict):
        raise _unexpected("an allow rule that is not an object")
    methods, prefix = _list(rule.get("methods")), rule.get("url_prefix")
    if not isinstance(prefix, str) or not all(isinstance(m, str) for m in methods):
        raise _unexpected("an allow rule without methods and a url_prefix")
    return AllowRule(methods=tuple(methods), url_prefix=prefix)


def _pairs(headers: Any) -> Headers:
    pairs = _list(headers)
    if not all(isinstance(p, list) and len(p) == 2 and all(isinstance(s, str) for s in p) for p in pairs):
        raise _unexpected("headers that are not [name, value] pairs")
    return [(p[0], p[1]) for p in pairs]


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise _unexpected("a list where one was expected")
    return value


def _json(data: bytes) -> dict[str, Any]:
    document = _json_any(data)
    if not isinstance(document, dict):
        raise _unexpected("JSON that is not an object")
    return document


def _json_any(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        raise _unexpected("an answer that is not JSON") from None


def _seconds(value: str | None) -> float | None:
    """Retry-After in seconds (Aileron sends seconds; an HTTP date is not worth guessing at)."""
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _unexpected(what: str) -> UnexpectedResponse:
    return UnexpectedResponse("unexpected_response", f"the server sent {what}", None, 200)
