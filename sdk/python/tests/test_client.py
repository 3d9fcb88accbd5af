"""`aileron.Client` against the real stack: brokered requests, listing, and every refusal."""

from __future__ import annotations

import pytest

import aileron

from .stack import CREDENTIAL, SECRET, Stack, free_port


def test_request_reaches_the_upstream_with_the_secret_and_the_answer_comes_back_redacted(
    stack: Stack, client: aileron.Client
) -> None:
    before = len(stack.upstream.seen)
    answer = client.request(
        CREDENTIAL, "GET", stack.upstream.url("/api/user?page=2"), headers={"x-trace": "t1"}
    )

    seen = stack.upstream.seen[before:]
    assert [(s.method, s.path) for s in seen] == [("GET", "/api/user?page=2")]
    assert seen[0].header("authorization") == f"Bearer {SECRET}"
    assert seen[0].header("x-trace") == "t1"
    assert (answer.status, answer.json()["login"]) == (200, "octocat")
    assert answer.json()["saw_authorization"] == "[REDACTED]"
    assert answer.header("x-echo-authorization") == "[REDACTED]"
    assert SECRET not in answer.text and SECRET not in repr(answer.headers)


def test_request_sends_a_json_body_with_its_content_type(stack: Stack, client: aileron.Client) -> None:
    answer = client.request(CREDENTIAL, "post", stack.upstream.url("/api/items"), json={"title": "hello"})

    seen = stack.upstream.seen[-1]
    assert (seen.method, seen.body, seen.header("content-type")) == (
        "POST",
        b'{"title": "hello"}',
        "application/json",
    )
    assert answer.json()["body"] == '{"title": "hello"}'


def test_an_upstream_error_status_is_returned_not_raised(stack: Stack, client: aileron.Client) -> None:
    answer = client.request(CREDENTIAL, "GET", stack.upstream.url("/api/status/404"))

    assert (answer.status, answer.ok) == (404, False)


def test_credentials_lists_the_credential_with_its_rules(stack: Stack, client: aileron.Client) -> None:
    listed = {c.name: c for c in client.credentials()}

    github = listed[CREDENTIAL]
    assert (github.source, github.kind, github.status, github.usable) == (
        "credential",
        "bearer",
        "active",
        True,
    )
    assert github.allow == (aileron.AllowRule(("GET", "POST"), stack.upstream.url("/api/")),)
    assert github.expires_at is not None


def test_a_url_outside_the_scope_raises_scope_violation_naming_the_rules(
    stack: Stack, client: aileron.Client
) -> None:
    before = len(stack.upstream.seen)
    with pytest.raises(aileron.ScopeViolation) as raised:
        client.request(CREDENTIAL, "GET", stack.upstream.url("/admin/users"))

    error = raised.value
    assert (error.code, error.status) == ("scope_violation", 403)
    assert error.rules == (aileron.AllowRule(("GET", "POST"), stack.upstream.url("/api/")),)
    assert f"allows only: GET,POST {stack.upstream.url('/api/')}" in str(error)
    assert error.request_id and error.request_id in str(error)
    assert len(stack.upstream.seen) == before, "refused by the enclave, never sent"


def test_a_method_outside_the_scope_raises_scope_violation(stack: Stack, client: aileron.Client) -> None:
    with pytest.raises(aileron.ScopeViolation):
        client.request(CREDENTIAL, "DELETE", stack.upstream.url("/api/user"))


def test_a_locked_vault_raises_vault_locked_saying_the_owner_must_unlock(
    locked: Stack, client: aileron.Client
) -> None:
    with pytest.raises(aileron.VaultLocked) as raised:
        client.request(CREDENTIAL, "GET", locked.upstream.url("/api/user"))

    error = raised.value
    assert isinstance(error, aileron.NotEscrowed)
    assert (error.code, error.status) == ("vault_locked", 423)
    assert "owner must unlock" in str(error) and "aileron vault unlock" in str(error)
    listed = {c.name: c for c in client.credentials()}
    assert (listed[CREDENTIAL].status, listed[CREDENTIAL].usable) == ("not_escrowed", False)


def test_an_unknown_credential_raises_not_found(stack: Stack, client: aileron.Client) -> None:
    with pytest.raises(aileron.NotFound) as raised:
        client.request("no-such-credential", "GET", stack.upstream.url("/api/user"))

    assert (raised.value.code, raised.value.status) == ("not_found", 404)
    assert "client.credentials()" in str(raised.value)


def test_an_unknown_escrow_raises_not_found(stack: Stack, client: aileron.Client) -> None:
    with pytest.raises(aileron.NotFound):
        client.request(CREDENTIAL, "GET", stack.upstream.url("/api/user"), source="escrow")


def test_a_body_over_the_limit_is_refused_before_sending(stack: Stack, client: aileron.Client) -> None:
    before = len(stack.upstream.seen)
    with pytest.raises(aileron.PayloadTooLarge) as raised:
        client.request(
            CREDENTIAL, "POST", stack.upstream.url("/api/upload"), content=b"x" * aileron.MAX_BODY_BYTES
        )

    error = raised.value
    assert (error.code, error.status) == ("payload_too_large", None)
    assert "buffers a body" in str(error) and str(aileron.MAX_REQUEST_BYTES) in str(error)
    assert len(stack.upstream.seen) == before


def test_the_largest_body_that_fits_is_sent(stack: Stack, client: aileron.Client) -> None:
    body = b"y" * 40_000
    client.request(CREDENTIAL, "POST", stack.upstream.url("/api/upload"), content=body)

    assert stack.upstream.seen[-1].body == body


def test_a_wrong_token_raises_unauthorized_without_echoing_it(stack: Stack) -> None:
    wrong = "ail_agent_" + "A" * 43
    with aileron.Client(stack.server, wrong) as client, pytest.raises(aileron.Unauthorized) as raised:
        client.request(CREDENTIAL, "GET", stack.upstream.url("/api/user"))

    assert raised.value.status == 401
    assert wrong not in str(raised.value) and "AILERON_TOKEN" in str(raised.value)


def test_a_malformed_name_is_refused_before_sending(client: aileron.Client) -> None:
    with pytest.raises(aileron.InvalidRequest) as raised:
        client.request("../vault", "GET", "https://example.com/")

    assert raised.value.status is None


def test_a_reserved_header_is_refused_by_the_broker(stack: Stack, client: aileron.Client) -> None:
    with pytest.raises(aileron.InvalidRequest) as raised:
        client.request(
            CREDENTIAL, "GET", stack.upstream.url("/api/user"), headers={"X-Forwarded-For": "1.2.3.4"}
        )

    assert raised.value.status == 400


def test_the_server_and_token_come_from_the_environment(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AILERON_SERVER", stack.server)
    monkeypatch.setenv("AILERON_TOKEN", stack.token)
    with aileron.Client() as client:
        assert client.request(CREDENTIAL, "GET", stack.upstream.url("/api/user")).status == 200


def test_a_missing_token_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AILERON_SERVER", "http://127.0.0.1:9")
    monkeypatch.delenv("AILERON_TOKEN", raising=False)
    with pytest.raises(aileron.ConfigurationError) as raised:
        aileron.Client()

    assert "AILERON_TOKEN" in str(raised.value)


def test_an_unreachable_server_raises_connection_failed(stack: Stack) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    with aileron.Client(closed, stack.token) as client, pytest.raises(aileron.ConnectionFailed) as raised:
        client.request(CREDENTIAL, "GET", stack.upstream.url("/api/user"))

    assert raised.value.__context__ is None and raised.value.__cause__ is None
    assert stack.token not in str(raised.value)


def test_check_scope_answers_with_the_enclaves_rules_without_sending(
    stack: Stack, client: aileron.Client
) -> None:
    before = len(stack.upstream.seen)
    inside = client.check_scope(CREDENTIAL, "get", stack.upstream.url("/api/a/../b"))
    outside = client.check_scope(CREDENTIAL, "DELETE", stack.upstream.url("/api/b"))

    assert (inside.allowed, inside.url, inside.reason) == (True, stack.upstream.url("/api/b"), None)
    assert (outside.allowed, outside.url) == (False, None)
    assert outside.reason is not None and "matches no allow rule" in outside.reason
    assert len(stack.upstream.seen) == before
    with pytest.raises(aileron.NotFound):
        client.check_scope("absent", "GET", stack.upstream.url("/api/b"))
