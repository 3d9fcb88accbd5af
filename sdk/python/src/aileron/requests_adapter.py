"""A `requests` adapter (`pip install aileron[requests]`):

    session = requests.Session()
    session.mount("https://api.github.com/", AileronAdapter("github"))
    session.get("https://api.github.com/user")   # the enclave injects the token

Same rules as `aileron.Transport`: bodies buffered both ways, an upstream 4xx/5xx returned as a
response, Aileron's refusals raised as `AileronError`. `verify`, `cert` and `proxies` concern
the upstream connection, which the enclave makes, and are ignored; `timeout` applies to the call
to Aileron.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from http import HTTPStatus

import httpx
import requests
import requests.adapters
import requests.utils
import urllib3
from requests.structures import CaseInsensitiveDict

from .client import DEFAULT_TIMEOUT, Client
from .errors import ConnectionFailed
from .models import Response, Source
from .transport import answer_headers, buffered, forwarded

_CHUNK = 64 * 1024

Timeout = float | tuple[float | None, float | None] | None


class AileronAdapter(requests.adapters.BaseAdapter):
    """Sends every request of the prefixes it is mounted on to Aileron, to be made with the
    credential `name`. Give a `client` to share one, or `server`/`token` (default
    AILERON_SERVER/AILERON_TOKEN)."""

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
        if client is not None and (server is not None or token is not None):
            raise TypeError("pass client= or server=/token=, not both")
        super().__init__()
        self._name, self._source = name, source
        self._owned = client is None
        self._client = client if client is not None else Client(server, token, timeout=timeout)

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Timeout = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        if request.method is None or request.url is None:
            raise ValueError("a prepared request without a method or URL")
        try:
            answer = self._client._send(
                self._name,
                self._source,
                request.method,
                request.url,
                forwarded(request.headers.items()),
                _body(request.body),
                _httpx_timeout(timeout),
            )
        except ConnectionFailed as error:
            raise _requests_error(error, request) from error
        return self._response(answer, request)

    def _response(self, answer: Response, request: requests.PreparedRequest) -> requests.Response:
        headers = answer_headers(answer)
        raw = urllib3.HTTPResponse(
            body=io.BytesIO(answer.content),
            headers=urllib3.HTTPHeaderDict(headers),
            status=answer.status,
            preload_content=False,
            decode_content=False,
        )
        response = requests.Response()
        response.status_code = answer.status
        response.headers = CaseInsensitiveDict(raw.headers)
        response.raw = raw
        response.reason = _reason(answer.status)
        response.url = request.url or ""
        response.encoding = requests.utils.get_encoding_from_headers(response.headers)
        response.request = request
        # requests' digest auth resends through `connection`; the stubs name HTTPAdapter only.
        response.connection = self  # type: ignore[assignment]
        return response

    def close(self) -> None:
        if self._owned:
            self._client.close()

    def __repr__(self) -> str:
        return (
            f"aileron.AileronAdapter({self._name!r}, source={self._source!r}, server={self._client.server!r})"
        )


def _body(body: object) -> bytes | None:
    """requests' body: bytes, text, a file or an iterable of chunks (read whole, bounded)."""
    if body is None or isinstance(body, bytes):
        return body or None
    if isinstance(body, str):
        return body.encode() or None
    read = getattr(body, "read", None)
    if callable(read):
        return buffered(_as_bytes(chunk) for chunk in iter(lambda: read(_CHUNK) or None, None))
    if isinstance(body, Iterable):
        return buffered(_as_bytes(chunk) for chunk in body)
    raise TypeError(f"cannot send a request body of type {type(body).__name__}")


def _as_bytes(chunk: object) -> bytes:
    if isinstance(chunk, str):
        return chunk.encode()
    if isinstance(chunk, (bytes, bytearray, memoryview)):
        return bytes(chunk)
    raise TypeError(f"cannot send a request body chunk of type {type(chunk).__name__}")


def _requests_error(error: ConnectionFailed, request: requests.PreparedRequest) -> requests.RequestException:
    """The server out of reach as requests' own error, so retry logic written for it works."""
    kind: type[requests.RequestException] = requests.ConnectionError
    if error.kind is not None and issubclass(error.kind, httpx.ConnectTimeout):
        kind = requests.ConnectTimeout
    elif error.kind is not None and issubclass(error.kind, httpx.TimeoutException):
        kind = requests.ReadTimeout
    return kind(str(error), request=request)


def _httpx_timeout(timeout: Timeout) -> httpx.Timeout | None:
    if timeout is None:
        return None
    if isinstance(timeout, tuple):
        connect, read = timeout
        return httpx.Timeout(read, connect=connect)
    return httpx.Timeout(timeout)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
