"""The protocol layer alone (no I/O): every malformed answer and every error code maps to its
exact exception. The stack tests cover the same paths end to end where the server can produce
them; these cover what a real server does not send on demand (429, 502, garbage)."""

from __future__ import annotations

import pytest

import aileron
from aileron import _wire


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("not_json", b"<html>bad gateway</html>"),
        ("json_not_an_object", b"[1, 2]"),
        ("no_status", b'{"headers": [], "body": ""}'),
        ("status_a_string", b'{"status": "200", "headers": [], "body": ""}'),
        ("no_body", b'{"status": 200, "headers": []}'),
        ("body_not_base64url", b'{"status": 200, "headers": [], "body": "ab+/"}'),
        ("body_impossible_length", b'{"status": 200, "headers": [], "body": "abcde"}'),
        ("headers_not_pairs", b'{"status": 200, "headers": [["a"]], "body": ""}'),
        ("header_value_not_a_string", b'{"status": 200, "headers": [["a", 1]], "body": ""}'),
        ("headers_missing", b'{"status": 200, "body": ""}'),
    ],
)
def test_a_malformed_answer_is_unexpected_response(name: str, body: bytes) -> None:
    with pytest.raises(aileron.UnexpectedResponse):
        _wire.read_answer(200, None, body)


def test_a_well_formed_answer_is_decoded() -> None:
    body = b'{"status": 201, "headers": [["x-a", "1"], ["x-a", "2"]], "body": "aGk"}'

    answer = _wire.read_answer(200, None, body)

    assert (answer.status, answer.headers, answer.content) == (201, [("x-a", "1"), ("x-a", "2")], b"hi")


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("scope_violation", 403, aileron.ScopeViolation),
        ("vault_locked", 423, aileron.VaultLocked),
        ("escrow_lost", 409, aileron.EscrowLost),
        ("escrow_expired", 410, aileron.EscrowExpired),
        ("escrow_used_up", 410, aileron.EscrowUsedUp),
        ("not_found", 404, aileron.NotFound),
        ("escrow_not_found", 404, aileron.NotFound),
        ("invalid_token", 401, aileron.Unauthorized),
        ("token_expired", 401, aileron.Unauthorized),
        ("unauthenticated", 401, aileron.Unauthorized),
        ("agent_token_not_allowed", 403, aileron.AgentTokenNotAllowed),
        ("invalid_request", 400, aileron.InvalidRequest),
        ("payload_too_large", 413, aileron.PayloadTooLarge),
        ("rate_limited", 429, aileron.RateLimited),
        ("destination_not_allowed", 403, aileron.DestinationNotAllowed),
        ("upstream_error", 502, aileron.UpstreamError),
        ("upstream_too_large", 502, aileron.UpstreamError),
        ("upstream_encoding", 502, aileron.UpstreamError),
        ("enclave_unavailable", 503, aileron.Unavailable),
        ("tee_disabled", 409, aileron.Unavailable),
        ("internal", 500, aileron.AileronError),
        ("a_code_from_the_future", 418, aileron.AileronError),
    ],
)
def test_each_error_code_maps_to_its_class(
    code: str, status: int, expected: type[aileron.AileronError]
) -> None:
    body = f'{{"error": {{"code": "{code}", "message": "m", "request_id": "r-1"}}}}'.encode()

    error = _wire.read_error(status, None, body)

    assert type(error) is expected
    assert (error.code, error.message, error.request_id, error.status) == (code, "m", "r-1", status)
    assert "r-1" in str(error)


@pytest.mark.parametrize(
    ("header", "seconds"), [("30", 30.0), ("0", 0.0), ("-5", 0.0), ("soon", None), (None, None)]
)
def test_rate_limited_reads_retry_after(header: str | None, seconds: float | None) -> None:
    body = b'{"error": {"code": "rate_limited", "message": "slow down"}}'

    error = _wire.read_error(429, header, body)

    assert isinstance(error, aileron.RateLimited) and error.retry_after == seconds
    assert ("after 30 seconds" in str(error)) == (seconds == 30.0)


@pytest.mark.parametrize(
    "body", [b"", b"Bad Gateway", b'{"error": "x"}', b'{"error": {"message": "no code"}}']
)
def test_an_error_that_is_not_aileron_s_is_unexpected_response(body: bytes) -> None:
    error = _wire.read_error(502, None, body)

    assert type(error) is aileron.UnexpectedResponse and error.status == 502


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "a b", "x" * 65, "é"])
def test_a_name_the_server_would_refuse_is_refused_here(name: str) -> None:
    with pytest.raises(aileron.InvalidRequest):
        _wire.request_path(name, "credential")


def test_the_request_path_names_the_source() -> None:
    assert _wire.request_path("gh.v2_x-1", "escrow") == "/v1/escrows/gh.v2_x-1/requests"
    assert _wire.request_path("gh", "credential") == "/v1/credentials/gh/requests"


def test_the_largest_body_fills_the_servers_limit_exactly() -> None:
    def encoded(n: int) -> bytes | None:
        try:
            return _wire.encode_request("POST", "https://a.example/", [], b"x" * n)
        except aileron.PayloadTooLarge:
            return None

    fits = next(n for n in range(aileron.MAX_BODY_BYTES, 0, -1) if encoded(n) is not None)

    assert len(encoded(fits) or b"") > aileron.MAX_REQUEST_BYTES - 4, "no byte left unused"
    assert encoded(fits + 1) is None


@pytest.mark.parametrize(
    ("content_type", "content", "text"),
    [
        (None, "é".encode(), "é"),
        ("text/plain; charset=latin-1", "é".encode("latin-1"), "é"),
        ('text/plain; charset="utf-8"', "é".encode(), "é"),
        ("text/plain; charset=no-such-charset", "é".encode(), "é"),
    ],
)
def test_response_text_uses_the_declared_charset(content_type: str | None, content: bytes, text: str) -> None:
    headers = [("Content-Type", content_type)] if content_type else []

    assert aileron.Response(200, headers, content).text == text


@pytest.mark.parametrize(
    ("server", "token"),
    [
        ("ftp://x", "ail_agent_x"),
        ("127.0.0.1:8080", "ail_agent_x"),
        ("https://x/?q=1", "ail_agent_x"),
        ("https://x", "two words"),
        ("https://x", "line\nbreak"),
    ],
)
def test_a_malformed_server_or_token_is_a_configuration_error(server: str, token: str) -> None:
    with pytest.raises(aileron.ConfigurationError) as raised:
        aileron.Client(server, token)

    assert token not in str(raised.value) or token == "ail_agent_x"


def test_a_sealed_escrow_is_listed_without_rules_and_a_server_trust_credential_is_usable() -> None:
    body = (
        b'[{"name": "gh", "source": "credential", "kind": "bearer", "status": "server",'
        b' "allow": [{"methods": ["GET"], "url_prefix": "https://api.github.com/"}],'
        b' "expires_at": null, "max_uses": null},'
        b' {"name": "demo", "source": "escrow", "kind": null, "status": "active",'
        b' "allow": null, "expires_at": 1900000000, "max_uses": null}]'
    )

    gh, demo = _wire.read_credentials(200, None, body)

    assert (gh.allow, gh.usable) == ((aileron.AllowRule(("GET",), "https://api.github.com/"),), True)
    assert (demo.allow, demo.usable, demo.source) == (None, True, "escrow")
    with pytest.raises(aileron.UnexpectedResponse):
        _wire.read_credentials(200, None, body.replace(b'"allow": null', b'"allow": "all"'))
