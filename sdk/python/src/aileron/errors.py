"""Aileron's refusals as exceptions, one class per thing a developer can act on.

Every exception is an `AileronError` carrying the server's stable `code` (docs/errors.md), its
`message`, the `request_id` to quote when reporting a failure, and the HTTP `status` (None when
the SDK refused before anything was sent, or no answer came). `str(error)` adds what to do.
Neither the token nor the credential's secret is ever part of an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from .models import AllowRule


class AileronError(Exception):
    """Aileron refused a request, or could not be reached. Match on the class or on `code`,
    never on `message`, which is for people and may change."""

    advice: ClassVar[str] = ""
    """What a developer should do about this kind of error."""

    def __init__(
        self,
        code: str,
        message: str,
        request_id: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(code, message, request_id, status)
        self.code = code
        self.message = message
        self.request_id = request_id
        self.status = status

    def __str__(self) -> str:
        where = f"HTTP {self.status}, " if self.status is not None else ""
        rid = f", request id {self.request_id}" if self.request_id else ""
        text = f"{self.message} ({where}{self.code}{rid})"
        return f"{text}. {self.advice}" if self.advice else text

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, status={self.status!r}, message={self.message!r})"


class InvalidRequest(AileronError):
    """400 `invalid_request`: a malformed brokered request."""

    advice = (
        "Aileron refused the request as malformed: often a header callers may not set (Host, "
        "Content-Length, Accept-Encoding, Range, X-Forwarded-*, or the header the credential "
        "injects, such as Authorization). Remove it and retry"
    )


class Unauthorized(AileronError):
    """401 `unauthenticated`, `invalid_token`, `token_expired`: the token is not accepted."""

    advice = (
        "The agent token is missing, invalid, expired or revoked: set AILERON_TOKEN (or pass "
        "token=) to a current one; its owner makes one with `aileron agent-token create`"
    )


class AgentTokenNotAllowed(AileronError):
    """403 `agent_token_not_allowed`: this route is for signed-in users only."""

    advice = "Agent tokens may only make brokered requests and list their credentials"


_WIDEN = "or ask its owner to widen them"


class ScopeViolation(AileronError):
    """403 `scope_violation`: the method or URL is outside the credential's allow rules.
    Nothing was sent upstream and no use was counted."""

    def __init__(
        self,
        code: str,
        message: str,
        request_id: str | None = None,
        status: int | None = None,
        rules: Sequence[AllowRule] = (),
    ) -> None:
        super().__init__(code, message, request_id, status)
        self.rules = tuple(rules)
        """The credential's allow rules, when the SDK could read them (else empty)."""

    def __str__(self) -> str:
        text = super().__str__()
        if not self.rules:
            return f"{text}. Use a method and URL inside the credential's allow rules, {_WIDEN}"
        allowed = "; ".join(str(rule) for rule in self.rules)
        return f"{text}. The credential allows only: {allowed}. Use a method and URL inside these, {_WIDEN}"


class DestinationNotAllowed(AileronError):
    """403 `destination_not_allowed`: the host resolves to an address that is not public."""

    advice = "Brokered requests reach public https hosts only; this host resolves to a private address"


class NotFound(AileronError):
    """404 `not_found`: no such credential or escrow for this token."""

    advice = (
        "No credential or escrow of that name is available to this token: check the name and "
        "source= ('credential' or 'escrow'); client.credentials() lists what the token may use, "
        "and a token created with --credential sees only those names"
    )


class NotEscrowed(AileronError):
    """The credential has no live escrow in the enclave, so nothing can inject its secret.
    Only its owner can fix this; the subclasses say how."""

    advice = "The credential cannot be used until its owner escrows it again"


class VaultLocked(NotEscrowed):
    """423 `vault_locked`: the owner's vault is locked (or was never unlocked)."""

    advice = (
        "The credential's owner must unlock the vault (`aileron vault unlock`); the agent cannot "
        "do this itself. Retrying will not help until then"
    )


class EscrowLost(NotEscrowed):
    """409 `escrow_lost`: the enclave restarted and lost the escrow."""

    advice = (
        "The enclave restarted and lost the secret: its owner must unlock the vault again "
        "(`aileron vault unlock`), or escrow it again for a sealed escrow (`aileron escrow put`)"
    )


class EscrowExpired(NotEscrowed):
    """410 `escrow_expired`: the escrow outlived its expiry."""

    advice = "The escrow has expired: its owner must unlock the vault again or escrow it anew"


class EscrowUsedUp(NotEscrowed):
    """410 `escrow_used_up`: the escrow's `max_uses` are spent."""

    advice = "The escrow's uses (max_uses) are spent: its owner must escrow it again"


class PayloadTooLarge(AileronError):
    """413 `payload_too_large`: the request body is over the limit. Raised by the SDK itself
    (status None) before anything is sent when it can tell."""

    advice = "Send a smaller body, or make this request without Aileron"


class RateLimited(AileronError):
    """429 `rate_limited`: too many requests; `retry_after` says for how long (seconds)."""

    def __init__(
        self,
        code: str,
        message: str,
        request_id: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(code, message, request_id, status)
        self.retry_after = retry_after

    def __str__(self) -> str:
        wait = f"after {self.retry_after:g} seconds" if self.retry_after is not None else "later"
        return f"{super().__str__()}. Retry {wait}"


class UpstreamError(AileronError):
    """502 `upstream_error`, `upstream_too_large`, `upstream_encoding`: the upstream could not
    be reached, failed, answered more than the enclave takes (10 MiB), or compressed its answer."""

    advice = (
        "The upstream failed, timed out, answered over 10 MiB or with a Content-Encoding: the "
        "request may have reached it, and it counts as one use"
    )


class Unavailable(AileronError):
    """503 `enclave_unavailable`, `database_unavailable`, `attestation_unavailable`, or 409
    `tee_disabled`: the service cannot broker right now."""

    advice = "Aileron cannot broker requests right now: retry later, or tell its operator"


class ConnectionFailed(AileronError):
    """The Aileron server could not be reached, or did not answer in time (code `unreachable`,
    status None). The URL is left out, as in every transport error of Aileron's SDKs.

    `kind` is the class of the HTTP library's error (such as `httpx.ConnectTimeout`); the error
    itself is not kept, since the request it carries holds the token. The transports raise
    their library's own kind of error from it, so retry logic written for them keeps working.
    """

    advice = "Check AILERON_SERVER and that the server is running, then retry"

    def __init__(
        self,
        code: str,
        message: str,
        request_id: str | None = None,
        status: int | None = None,
        kind: type[Exception] | None = None,
    ) -> None:
        super().__init__(code, message, request_id, status)
        self.kind = kind


class UnexpectedResponse(AileronError):
    """The server's answer was not Aileron's JSON (code `unexpected_response`): a proxy in the
    way, or a server of another version."""

    advice = "Check that AILERON_SERVER points at an Aileron server, not a proxy or another site"


class ConfigurationError(AileronError):
    """The client is missing its server or token, or one of them is malformed (code
    `configuration`, status None)."""

    advice = "Pass server= and token=, or set AILERON_SERVER and AILERON_TOKEN"


_BY_CODE: dict[str, type[AileronError]] = {
    "invalid_request": InvalidRequest,
    "unauthenticated": Unauthorized,
    "invalid_token": Unauthorized,
    "token_expired": Unauthorized,
    "agent_token_not_allowed": AgentTokenNotAllowed,
    "scope_violation": ScopeViolation,
    "destination_not_allowed": DestinationNotAllowed,
    "not_found": NotFound,
    "escrow_not_found": NotFound,
    "vault_locked": VaultLocked,
    "escrow_lost": EscrowLost,
    "escrow_expired": EscrowExpired,
    "escrow_used_up": EscrowUsedUp,
    "payload_too_large": PayloadTooLarge,
    "rate_limited": RateLimited,
    "upstream_error": UpstreamError,
    "upstream_too_large": UpstreamError,
    "upstream_encoding": UpstreamError,
    "enclave_unavailable": Unavailable,
    "database_unavailable": Unavailable,
    "attestation_unavailable": Unavailable,
    "tee_disabled": Unavailable,
}


def error_for(
    code: str,
    message: str,
    request_id: str | None,
    status: int | None,
    retry_after: float | None = None,
) -> AileronError:
    """The exception for a server's error code (the base class for codes without one)."""
    cls = _BY_CODE.get(code, AileronError)
    if cls is RateLimited:
        return RateLimited(code, message, request_id, status, retry_after)
    return cls(code, message, request_id, status)
