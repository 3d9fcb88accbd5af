"""Two API servers behind nginx (round robin) on one PostgreSQL database, with two local enclaves:
the vault journey works whichever replica answers, wrong codes spread over both replicas void a
code as on one, an audit walk over both replicas' events sees each once, and killing one enclave
loses only its users' escrows, whose next unlock places them on the other.

Usage: python3 scripts/scale/test_fleet.py [BIN_DIR]   (default: $CARGO_TARGET_DIR/debug)
Ends with one line `interop: N passed`; exits non-zero when a check failed."""

from __future__ import annotations

import base64
import json
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from fleet import Fleet, call, enclave_id  # noqa: E402

PASSWORD = "fleet-password-123"
PASSPHRASE = "fleet vault passphrase: quartz heron 6604"


class User:
    def __init__(self, fleet: Fleet, n: int) -> None:
        self.email = f"fleet{n}@example.com"
        self.secret = f"fleet_planted_secret_{n}_amberOwl_5521"
        self.config = fleet.work / f"config{n}"
        self.token = ""
        self.session = ""


def sign_up(fleet: Fleet, user: User) -> None:
    answer = call("POST", f"{fleet.lb}/auth/signup", {"email": user.email, "password": PASSWORD})
    assert answer.status == 202, answer.body
    code = fleet.mail.code_for(user.email)
    answer = call("POST", f"{fleet.lb}/auth/verify-email", {"email": user.email, "code": code, "delivery": "body"})
    assert answer.status == 200, answer.body
    user.session = answer.json()["access_token"]


def journey(fleet: Fleet, user: User) -> None:
    """Sign in with the CLI, set the vault, add a credential (escrowed at once), make an agent token."""
    fleet.cli(
        user.config,
        "login",
        "--server",
        fleet.lb,
        "--email",
        user.email,
        "--policy",
        str(fleet.policy()),
        "--root",
        str(fleet.work / "ca" / "root.pem"),
        stdin=PASSWORD + "\n",
    )
    fleet.cli(user.config, "vault", "set", stdin=PASSPHRASE + "\n")
    allow = f"GET {fleet.upstream.base}/api/"
    fleet.cli(user.config, "credential", "add", "--name", "api", "--allow", allow, stdin=f"{PASSPHRASE}\n{user.secret}\n")
    user.token = json.loads(fleet.cli(user.config, "agent-token", "create", "--name", "bot"))["token"]


def brokered(fleet: Fleet, user: User, path: str):  # type: ignore[no-untyped-def]
    return call(
        "POST",
        f"{fleet.lb}/v1/credentials/api/requests",
        {"method": "GET", "url": f"{fleet.upstream.base}/api/{path}"},
        token=user.token,
    )


def upstream_saw(fleet: Fleet, path: str) -> str | None:
    with fleet.upstream.lock:
        for p, headers, _ in fleet.upstream.seen:
            if p == f"/api/{path}":
                return headers.get("authorization")
    return None


def my_enclave(fleet: Fleet, user: User) -> str:
    answer = call("GET", f"{fleet.lb}/v1/tee/status", token=user.session)
    assert answer.status == 200, answer.body
    return str(answer.json()["enclave"])


def main() -> int:
    bin_dir = Path(sys.argv[1] if len(sys.argv) > 1 else Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache/aileron/target")) / "debug")
    fleet = Fleet(bin_dir, enclaves=2, servers=2, server_env={"AILERON_RATE_LIMIT_PER_ACCOUNT": "100000", "AILERON_RATE_LIMIT_PER_ADDR": "100000"})
    passed = failed = 0
    users: list[User] = []
    ids: list[str] = []

    def check(name: str, test: Callable[[], None]) -> None:
        nonlocal passed, failed
        try:
            test()
            passed += 1
            print(f"ok {name}")
        except Exception:  # noqa: BLE001 — every failure is reported, then the next check runs
            failed += 1
            print(f"FAILED {name}\n{traceback.format_exc()}")

    def spread() -> None:
        replicas = {call("GET", f"{fleet.lb}/v1/health").replica for _ in range(6)}
        assert replicas == {u.split("//")[1] for u in fleet.server_urls}, replicas

    def wrong_codes() -> None:
        for email, wrong_tries, verifies in (("five@example.com", 5, False), ("four@example.com", 4, True)):
            assert call("POST", f"{fleet.lb}/auth/signup", {"email": email, "password": PASSWORD}).status == 202
            good = fleet.mail.code_for(email)
            wrong = "111111" if good == "000000" else "000000"
            replicas = set()
            for _ in range(wrong_tries):
                answer = call("POST", f"{fleet.lb}/auth/verify-email", {"email": email, "code": wrong})
                assert answer.status == 400 and answer.json()["error"]["code"] == "invalid_code", answer.body
                replicas.add(answer.replica)
            assert len(replicas) == 2, f"the wrong codes reached both replicas: {replicas}"
            answer = call("POST", f"{fleet.lb}/auth/verify-email", {"email": email, "code": good})
            assert (answer.status == 200) == verifies, (email, answer.status, answer.body)

    def vault_journey() -> None:
        nonlocal ids
        ids = [enclave_id(u) for u in fleet.enclave_urls]
        # Users until each enclave holds someone's escrows (rendezvous spreads them; bounded).
        for n in range(12):
            user = User(fleet, n)
            sign_up(fleet, user)
            journey(fleet, user)
            users.append(user)
            placed = {my_enclave(fleet, u) for u in users}
            if placed == set(ids) and len(users) >= 3:
                break
        assert {my_enclave(fleet, u) for u in users} == set(ids), "both enclaves hold escrows"
        replicas = set()
        for user in users:
            for i in range(4):
                path = f"{user.email}/{i}"
                answer = brokered(fleet, user, path)
                assert answer.status == 200, answer.body
                replicas.add(answer.replica)
                assert upstream_saw(fleet, path) == f"Bearer {user.secret}", path
        assert len(replicas) == 2, f"brokered requests reached both replicas: {replicas}"

    def audit_walk() -> None:
        user = users[0]
        seen: list[str] = []
        before = None
        replicas = set()
        for _ in range(100):
            query = "limit=3" + (f"&before={before}" if before is not None else "")
            answer = call("GET", f"{fleet.lb}/v1/audit?{query}", token=user.session)
            assert answer.status == 200, answer.body
            replicas.add(answer.replica)
            page = answer.json()
            seen += [e["id"] for e in page["events"]]
            before = page.get("next_before")
            if before is None:
                break
        assert len(replicas) == 2, replicas
        assert len(seen) == len(set(seen)), "no event twice"
        user_id = fleet.psql(f"SELECT id FROM users WHERE email = '{user.email}'")
        stored = sorted(fleet.psql(f"SELECT id FROM audit_events WHERE user_id = '{user_id}'").split())
        assert sorted(seen) == stored, (len(seen), len(stored))
        assert len(stored) >= 6, "the walk covered the journey and the requests"

    def enclave_loss() -> None:
        victim = 0
        moved = [u for u in users if my_enclave(fleet, u) == ids[victim]]
        stayed = [u for u in users if my_enclave(fleet, u) != ids[victim]]
        assert moved and stayed
        fleet.kill(f"enclave{victim + 1}")
        for user in stayed:
            for i in range(2):
                answer = brokered(fleet, user, f"{user.email}/after/{i}")
                assert answer.status == 200, ("the other enclave's users are untouched", answer.body)
        for user in moved:
            answer = brokered(fleet, user, f"{user.email}/lost")
            assert answer.status in (409, 410, 503), ("its users' escrows are gone", answer.status, answer.body)
            # Each replica, asked directly, reports the fleet as it sees it now.
            for server in fleet.server_urls:
                status = call("GET", f"{server}/v1/tee/status", token=user.session).json()
                fleet_view = {e["id"]: e["attested"] for e in status["enclaves"]}
                assert fleet_view == {ids[victim]: False, ids[1 - victim]: True}, fleet_view
            # An agent is told its credential cannot be used now, and why.
            listed = call("GET", f"{fleet.lb}/v1/agent/credentials", token=user.token)
            assert listed.status == 200, listed.body
            states = {c["name"]: c["status"] for c in listed.json()}
            assert states == {"api": "unavailable"}, states
            # The next unlock places the escrows on the enclave that is left.
            fleet.cli(user.config, "vault", "unlock", stdin=PASSPHRASE + "\n")
            assert my_enclave(fleet, user) == ids[1 - victim]
            listed = call("GET", f"{fleet.lb}/v1/agent/credentials", token=user.token).json()
            assert [c["status"] for c in listed] == ["active"], listed
            for i in range(2):
                path = f"{user.email}/moved/{i}"
                answer = brokered(fleet, user, path)
                assert answer.status == 200, answer.body
                assert upstream_saw(fleet, path) == f"Bearer {user.secret}"

    def hygiene() -> None:
        logs = fleet.logs()
        dump = fleet.psql("SELECT string_agg(t::text, ' ') FROM (SELECT * FROM escrows) t") + fleet.psql(
            "SELECT string_agg(t::text, ' ') FROM (SELECT * FROM credentials) t"
        )
        for user in users:
            for planted in (user.secret, PASSPHRASE, base64.b64encode(user.secret.encode()).decode()):
                assert planted not in logs, "a secret in the logs"
                assert planted not in dump, "a secret in the database"

    try:
        fleet.start()
        check("requests are spread over both replicas", spread)
        check("wrong codes over both replicas void a code as on one", wrong_codes)
        check("the vault journey works whichever replica answers", vault_journey)
        if users:
            check("an audit walk over both replicas' events sees each once", audit_walk)
            check("killing one enclave loses only its users' escrows; their unlock moves them", enclave_loss)
            check("no planted secret in any log or the database", hygiene)
    except Exception:  # noqa: BLE001
        failed += 1
        print(f"FAILED starting the fleet\n{traceback.format_exc()}\n{fleet.logs()[-4000:]}")
    finally:
        if failed and os.environ.get("AILERON_FLEET_KEEP"):
            print(f"kept {fleet.work}")
        else:
            fleet.stop()
    print(f"interop: {passed} passed")
    if failed:
        print(f"{failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
