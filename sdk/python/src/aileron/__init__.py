"""Aileron for Python: HTTP requests made with a credential the agent never sees.

An agent holds an agent token (`AILERON_TOKEN`) for an Aileron server (`AILERON_SERVER`). It
asks the server to make a request with a named credential; a hardware-attested enclave injects
the secret, makes the request inside the credential's allow rules, and returns the answer with
every form of the secret redacted.

What this protects: the secret never reaches this process, and requests outside the allow rules
are refused before anything is sent. What it does not: the agent may still make any request the
rules allow, and read the answers. The token itself is a bearer credential; this SDK never
prints it (not by repr, not in exceptions), but whoever holds it may use the credentials it
names until it expires or is revoked.

    client = aileron.Client()
    answer = client.request("github", "GET", "https://api.github.com/user")

    http = httpx.Client(transport=aileron.Transport("github"))
    http.get("https://api.github.com/user")
"""

from ._wire import MAX_BODY_BYTES, MAX_REQUEST_BYTES
from .client import DEFAULT_TIMEOUT, AsyncClient, Client, __version__
from .errors import (
    AgentTokenNotAllowed,
    AileronError,
    ConfigurationError,
    ConnectionFailed,
    DestinationNotAllowed,
    EscrowExpired,
    EscrowLost,
    EscrowUsedUp,
    InvalidRequest,
    NotEscrowed,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ScopeViolation,
    Unauthorized,
    Unavailable,
    UnexpectedResponse,
    UpstreamError,
    VaultLocked,
)
from .models import AllowRule, Credential, Response, ScopeVerdict, Source
from .transport import AsyncTransport, Transport

__all__ = [
    "DEFAULT_TIMEOUT",
    "MAX_BODY_BYTES",
    "MAX_REQUEST_BYTES",
    "AgentTokenNotAllowed",
    "AileronError",
    "AllowRule",
    "AsyncClient",
    "AsyncTransport",
    "Client",
    "ConfigurationError",
    "ConnectionFailed",
    "Credential",
    "DestinationNotAllowed",
    "EscrowExpired",
    "EscrowLost",
    "EscrowUsedUp",
    "InvalidRequest",
    "NotEscrowed",
    "NotFound",
    "PayloadTooLarge",
    "RateLimited",
    "Response",
    "ScopeVerdict",
    "ScopeViolation",
    "Source",
    "Transport",
    "Unauthorized",
    "Unavailable",
    "UnexpectedResponse",
    "UpstreamError",
    "VaultLocked",
    "__version__",
]
