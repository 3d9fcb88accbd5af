"""httpx transports that send every request through Aileron with one credential.

    http = httpx.Client(transport=aileron.Transport("github"))
    http.get("https://api.github.com/user")   # the enclave injects the token

Bodies are buffered: a streamed request body is read whole (refused past what a brokered
request can carry, before anything is sent) and the answer arrives whole. An upstream 4xx or
5xx is an ordinary `httpx.Response`; Aileron's own refusals raise `AileronError`.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from . import _wire
from .client import DEFAULT_TIMEOUT, AsyncClient, Client
from .errors import ConnectionFailed
from .models import Headers, Response, Source


class Transport(httpx.BaseTransport):
    """Sends each request to Aileron, to be made with the credential `name`.

    Give a `client` to share one (it is not closed with the transport), or `server`/`token`
    (default AILERON_SERVER/AILERON_TOKEN) for a client of its own. httpx's per-request timeout
    applies to the call to Aileron.
    """

    def __init__(
        self,
        name: str,
        *,
        client: Client | None = None,
        server: str | None = None,
        token: str | None = None,
        source: Source = "credential",
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        _one_of(client, server, token)
        self._name, self._source = name, source
        self._owned = client is None
        self._client = client if client is not None else Client(server, token, timeout=timeout)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not isinstance(request.stream, Iterable):
            raise TypeError(
                "aileron.Transport is synchronous: use aileron.AsyncTransport with httpx.AsyncClient"
            )
        body = buffered(request.stream)
        with _as_httpx_errors(request):
            answer = self._client._send(
                self._name,
                self._source,
                request.method,
                str(request.url),
                forwarded(request.headers),
                body,
                _timeout(request),
            )
        return _to_httpx(answer, request)

    def close(self) -> None:
        if self._owned:
            self._client.close()

    def __repr__(self) -> str:
        return f"aileron.Transport({self._name!r}, source={self._source!r}, server={self._client.server!r})"


class AsyncTransport(httpx.AsyncBaseTransport):
    """`Transport` for `httpx.AsyncClient`."""

    def __init__(
        self,
        name: str,
        *,
        client: AsyncClient | None = None,
        server: str | None = None,
        token: str | None = None,
        source: Source = "credential",
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        _one_of(client, server, token)
        self._name, self._source = name, source
        self._owned = client is None
        self._client = client if client is not None else AsyncClient(server, token, timeout=timeout)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not isinstance(request.stream, AsyncIterable):
            raise TypeError("aileron.AsyncTransport is asynchronous: use aileron.Transport with httpx.Client")
        body = await _buffered_async(request.stream)
        with _as_httpx_errors(request):
            answer = await self._client._send(
                self._name,
                self._source,
                request.method,
                str(request.url),
                forwarded(request.headers),
                body,
                _timeout(request),
            )
        return _to_httpx(answer, request)

    async def aclose(self) -> None:
        if self._owned:
            await self._client.aclose()

    def __repr__(self) -> str:
        return (
            f"aileron.AsyncTransport({self._name!r}, source={self._source!r}, server={self._client.server!r})"
        )


def forwarded(headers: Iterable[tuple[str, str]] | httpx.Headers) -> Headers:
    """The caller's headers less those an HTTP library adds by itself that the broker refuses
    or sets (Host, Content-Length, Accept-Encoding, Connection…)."""
    pairs = headers.multi_items() if isinstance(headers, httpx.Headers) else headers
    return [(n, v) for n, v in pairs if n.lower() not in _wire.AUTOMATIC_REQUEST_HEADERS]


def answer_headers(answer: Response) -> Headers:
    """The upstream's headers with the framing of the body as delivered: redaction changes
    its length, and it arrives whole (the upstream's Content-Length is for the unredacted body)."""
    kept = [(n, v) for n, v in answer.headers if n.lower() not in _wire.FRAMING_RESPONSE_HEADERS]
    return [*kept, ("content-length", str(len(answer.content)))]


def buffered(chunks: Iterable[bytes]) -> bytes | None:
    """A request body read whole, refused as soon as it cannot fit a brokered request."""
    data = bytearray()
    for chunk in chunks:
        data += chunk
        if len(data) > _wire.MAX_BODY_BYTES:
            raise _wire.body_too_large(_wire.MAX_BODY_BYTES, exact=False)
    return bytes(data) or None


async def _buffered_async(chunks: AsyncIterable[bytes]) -> bytes | None:
    data = bytearray()
    async for chunk in chunks:
        data += chunk
        if len(data) > _wire.MAX_BODY_BYTES:
            raise _wire.body_too_large(_wire.MAX_BODY_BYTES, exact=False)
    return bytes(data) or None


@contextmanager
def _as_httpx_errors(request: httpx.Request) -> Iterator[None]:
    """The server out of reach as httpx's own error, on the caller's request, as httpx's
    contract for transports has it."""
    try:
        yield
    except ConnectionFailed as error:
        kind = error.kind
        if not (isinstance(kind, type) and issubclass(kind, httpx.TransportError)):
            kind = httpx.ConnectError
        raise kind(str(error), request=request) from error


def _timeout(request: httpx.Request) -> httpx.Timeout | None:
    given: Any = request.extensions.get("timeout")
    return httpx.Timeout(**given) if isinstance(given, dict) else None


def _to_httpx(answer: Response, request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        answer.status, headers=answer_headers(answer), content=answer.content, request=request
    )


def _one_of(client: object, server: str | None, token: str | None) -> None:
    if client is not None and (server is not None or token is not None):
        raise TypeError("pass client= or server=/token=, not both")
