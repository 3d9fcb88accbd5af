"""`Client` and `AsyncClient`: brokered requests and the credentials a token may use."""

from __future__ import annotations

import json as _json
import ssl
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any, Self

import httpx

from . import _wire
from ._config import resolve
from .errors import AileronError, ConnectionFailed, ScopeViolation, UnexpectedResponse
from .models import Credential, Headers, Response, ScopeVerdict, Source

__version__ = "0.1.0"

DEFAULT_TIMEOUT = 60.0
"""Seconds for a whole brokered request: the enclave gives the upstream 30 s, and the server
30 s for the whole answer, so this only trips when something between is stuck."""

HeadersArg = Mapping[str, str] | Iterable[tuple[str, str]] | None
"""Headers as a mapping or as `(name, value)` pairs (to repeat a name)."""

Verify = ssl.SSLContext | str | bool

# What a call to the server gives back: its status, Retry-After, and the body read (bounded).
_Answer = tuple[int, str | None, bytes]


class _Base:
    """What both clients share: configuration, the token, and turning calls into bytes."""

    def __init__(self, server: str | None, token: str | None) -> None:
        self._server, self._token = resolve(server, token)

    @property
    def server(self) -> str:
        """The Aileron server's base URL."""
        return self._server

    def __repr__(self) -> str:
        return f"aileron.{type(self).__name__}(server={self._server!r})"

    def _headers(self) -> dict[str, str]:
        return {
            "authorization": self._token.authorization(),
            "content-type": "application/json",
            "accept": "application/json",
            "user-agent": f"aileron-python/{__version__}",
        }

    @staticmethod
    def _prepare(
        name: str, source: Source, method: str, url: str, headers: Headers, body: bytes | None
    ) -> tuple[str, bytes]:
        return _wire.request_path(name, source), _wire.encode_request(method, url, headers, body)

    @staticmethod
    def _with_rules(
        error: ScopeViolation, name: str, source: Source, listed: list[Credential]
    ) -> ScopeViolation:
        rules = next((c.allow or () for c in listed if c.name == name and c.source == source), ())
        return ScopeViolation(error.code, error.message, error.request_id, error.status, rules)


class Client(_Base):
    """A client of an Aileron server, holding an agent token.

    `server` and `token` default to AILERON_SERVER and AILERON_TOKEN. The token is never
    printed: not by `repr`, not in any exception. Close the client (or use it in a `with`) to
    release its connections.
    """

    def __init__(
        self,
        server: str | None = None,
        token: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        verify: Verify = True,
    ) -> None:
        super().__init__(server, token)
        self._http = httpx.Client(base_url=self._server, timeout=timeout, verify=verify)

    def credentials(self) -> list[Credential]:
        """The credentials and escrows this token may use, with their allow rules and status."""
        return _wire.read_credentials(*self._call("GET", "/v1/agent/credentials", None, None))

    def check_scope(self, name: str, method: str, url: str) -> ScopeVerdict:
        """Whether the vault credential `name` allows `method url`, without making the request
        (the server answers with the enclave's own scope code)."""
        payload = _wire.encode_check(name, method, url)
        return _wire.read_verdict(*self._call("POST", "/v1/scope/check", payload, None))

    def request(
        self,
        name: str,
        method: str,
        url: str,
        *,
        headers: HeadersArg = None,
        content: bytes | str | None = None,
        json: Any = None,
        source: Source = "credential",
    ) -> Response:
        """Has the enclave make `method url` with the credential `name` injected, and returns
        the upstream's answer with the secret redacted (a 4xx or 5xx upstream answer is
        returned, not raised). Aileron's own refusals raise `AileronError`."""
        pairs, body = _body(headers, content, json)
        return self._send(name, source, method, url, pairs, body)

    def _send(
        self,
        name: str,
        source: Source,
        method: str,
        url: str,
        headers: Headers,
        body: bytes | None,
        timeout: httpx.Timeout | None = None,
    ) -> Response:
        path, payload = self._prepare(name, source, method, url, headers, body)
        try:
            return _wire.read_answer(*self._call("POST", path, payload, timeout))
        except ScopeViolation as error:
            raise self._explained(error, name, source) from None

    def _explained(self, error: ScopeViolation, name: str, source: Source) -> ScopeViolation:
        try:
            return self._with_rules(error, name, source, self.credentials())
        except AileronError:
            return error

    def _call(self, method: str, path: str, payload: bytes | None, timeout: httpx.Timeout | None) -> _Answer:
        try:
            return self._fetch(method, path, payload, timeout)
        except httpx.TransportError as error:
            failure = _unreachable(error)
        # Raised outside the handler, so that it keeps no link to httpx's error, whose request
        # holds the token in its headers.
        raise failure

    def _fetch(self, method: str, path: str, payload: bytes | None, timeout: httpx.Timeout | None) -> _Answer:
        with self._http.stream(
            method,
            path,
            content=payload,
            headers=self._headers(),
            timeout=timeout or httpx.USE_CLIENT_DEFAULT,
        ) as answer:
            data = bytearray()
            for chunk in answer.iter_bytes():
                data += chunk
                _check_answer_size(len(data), answer.status_code)
            return answer.status_code, answer.headers.get("retry-after"), bytes(data)

    def close(self) -> None:
        """Closes the connections to the server."""
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncClient(_Base):
    """`Client` with the same methods, for asyncio (and trio, through httpx)."""

    def __init__(
        self,
        server: str | None = None,
        token: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        verify: Verify = True,
    ) -> None:
        super().__init__(server, token)
        self._http = httpx.AsyncClient(base_url=self._server, timeout=timeout, verify=verify)

    async def credentials(self) -> list[Credential]:
        """The credentials and escrows this token may use, with their allow rules and status."""
        return _wire.read_credentials(*await self._call("GET", "/v1/agent/credentials", None, None))

    async def check_scope(self, name: str, method: str, url: str) -> ScopeVerdict:
        """Whether the vault credential `name` allows `method url`, without making the request."""
        payload = _wire.encode_check(name, method, url)
        return _wire.read_verdict(*await self._call("POST", "/v1/scope/check", payload, None))

    async def request(
        self,
        name: str,
        method: str,
        url: str,
        *,
        headers: HeadersArg = None,
        content: bytes | str | None = None,
        json: Any = None,
        source: Source = "credential",
    ) -> Response:
        """As `Client.request`."""
        pairs, body = _body(headers, content, json)
        return await self._send(name, source, method, url, pairs, body)

    async def _send(
        self,
        name: str,
        source: Source,
        method: str,
        url: str,
        headers: Headers,
        body: bytes | None,
        timeout: httpx.Timeout | None = None,
    ) -> Response:
        path, payload = self._prepare(name, source, method, url, headers, body)
        try:
            return _wire.read_answer(*await self._call("POST", path, payload, timeout))
        except ScopeViolation as error:
            raise await self._explained(error, name, source) from None

    async def _explained(self, error: ScopeViolation, name: str, source: Source) -> ScopeViolation:
        try:
            return self._with_rules(error, name, source, await self.credentials())
        except AileronError:
            return error

    async def _call(
        self, method: str, path: str, payload: bytes | None, timeout: httpx.Timeout | None
    ) -> _Answer:
        try:
            return await self._fetch(method, path, payload, timeout)
        except httpx.TransportError as error:
            failure = _unreachable(error)
        raise failure  # outside the handler: see Client._call

    async def _fetch(
        self, method: str, path: str, payload: bytes | None, timeout: httpx.Timeout | None
    ) -> _Answer:
        async with self._http.stream(
            method,
            path,
            content=payload,
            headers=self._headers(),
            timeout=timeout or httpx.USE_CLIENT_DEFAULT,
        ) as answer:
            data = bytearray()
            async for chunk in answer.aiter_bytes():
                data += chunk
                _check_answer_size(len(data), answer.status_code)
            return answer.status_code, answer.headers.get("retry-after"), bytes(data)

    async def aclose(self) -> None:
        """Closes the connections to the server."""
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


def _body(headers: HeadersArg, content: bytes | str | None, json: Any) -> tuple[Headers, bytes | None]:
    pairs = _wire.header_pairs(headers)
    if content is not None and json is not None:
        raise TypeError("pass content= or json=, not both")
    if json is not None:
        if not any(name.lower() == "content-type" for name, _ in pairs):
            pairs.append(("content-type", "application/json"))
        return pairs, _json.dumps(json).encode()
    return pairs, content.encode() if isinstance(content, str) else content


def _check_answer_size(size: int, status: int) -> None:
    if size > _wire.MAX_ANSWER_BYTES:
        raise UnexpectedResponse(
            "unexpected_response", f"the server's answer is over {_wire.MAX_ANSWER_BYTES} bytes", None, status
        )


def _unreachable(error: httpx.TransportError) -> ConnectionFailed:
    # httpx's own text names the failure (refused, TLS) without the URL or headers.
    if isinstance(error, httpx.TimeoutException):
        message = f"the Aileron server did not answer in time ({type(error).__name__})"
    else:
        message = f"could not reach the Aileron server ({type(error).__name__}: {error})"
    return ConnectionFailed("unreachable", message, kind=type(error))
