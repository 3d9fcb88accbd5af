"""A real local Aileron stack for the tests, as scripts/stack.sh starts it: PostgreSQL (a fresh
database), the local enclave, the API server and a recording upstream on free loopback ports,
then a user signed in with the CLI, a vault, a credential and an agent token."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

PASSWORD = "sdk-python-password-123"
PASSPHRASE = "planted vault passphrase: lantern walrus 5093"
SECRET = "ghp_plantedSecret_quietOtter_4071_umbrella"
CREDENTIAL = "github"
# A second credential of the same owner that the agent token is NOT given.
OTHER = "billing"
OTHER_SECRET = "sk_live_plantedOther_copperHeron_8826"
SIGNING_KEY = "sdk-python-signing-key-0123456789abcdef0123456789"


@dataclass
class Seen:
    """One request the upstream received."""

    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for n, v in self.headers if n.lower() == name.lower()), None)


@dataclass
class Upstream:
    """A loopback HTTP server that records every request and echoes what it was sent,
    including the injected Authorization (so that redaction has something to remove)."""

    server: ThreadingHTTPServer
    seen: list[Seen] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    @classmethod
    def start(cls) -> Upstream:
        upstream: Upstream
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(lambda: upstream))
        upstream = cls(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return upstream

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _handler(upstream: Any) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            size = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(size) if size else b""
            seen = Seen(self.command, self.path, list(self.headers.items()), body)
            upstream().seen.append(seen)
            status = int(self.path.rsplit("/", 1)[1]) if self.path.startswith("/api/status/") else 200
            auth = self.headers.get("authorization", "")
            answer = json.dumps(
                {
                    "login": "octocat",
                    "method": self.command,
                    "path": self.path,
                    "saw_authorization": auth,
                    "body": body.decode(errors="replace"),
                }
            ).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("x-echo-authorization", auth)
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        do_GET = do_POST = do_PUT = do_DELETE = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def binaries() -> Path:
    target = os.environ.get("CARGO_TARGET_DIR") or str(Path.home() / ".cache/aileron/target")
    found = Path(target) / "debug"
    missing = [b for b in ("aileron-server", "aileron-enclave", "aileron") if not (found / b).exists()]
    if missing:
        raise RuntimeError(f"build the binaries first (cargo build): missing {missing} in {found}")
    return found


class Stack:
    """The whole stack; `start` brings it up, `stop` takes it down and drops the database."""

    def __init__(self) -> None:
        self.bin = binaries()
        self.work = Path(tempfile.mkdtemp(prefix="aileron-sdk-python-"))
        self.admin_url = os.environ.get(
            "AILERON_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test"
        )
        self.db = f"aileron_sdk_py_{uuid.uuid4().hex[:12]}"
        self.processes: list[subprocess.Popen[bytes]] = []
        self.upstream = Upstream.start()
        self.server = ""
        self.token = ""
        self.enclave_env: dict[str, str] = {}

    # --- start ------------------------------------------------------------------------------

    def start(self) -> None:
        enclave_url, digest = self._start_enclave()
        self._psql(f"CREATE DATABASE {self.db}")
        self._start_server(enclave_url, digest)
        self._sign_in(digest)
        self.cli("vault", "set", stdin=PASSPHRASE + "\n")
        allow = f"GET,POST {self.upstream.url('/api/')}"
        self.cli(
            "credential", "add", "--name", CREDENTIAL, "--allow", allow, stdin=f"{PASSPHRASE}\n{SECRET}\n"
        )
        self.cli(
            "credential", "add", "--name", OTHER, "--allow", allow, stdin=f"{PASSPHRASE}\n{OTHER_SECRET}\n"
        )
        out = self.cli("agent-token", "create", "--name", "bot", "--credential", CREDENTIAL)
        self.token = json.loads(out)["token"]

    def _base_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AILERON_")}
        env.update(
            AILERON_DANGEROUS_ALLOW_PRIVATE_UPSTREAMS="true",
            AILERON_JWT_SIGNING_KEY=SIGNING_KEY,
            AILERON_LOCAL_CA_DIR=str(self.work / "ca"),
            RUST_LOG="warn",
        )
        return env

    def _start_enclave(self) -> tuple[str, str]:
        env = self._base_env()
        keys = subprocess.run(
            [self.bin / "aileron-server", "admission-key"],
            env=env,
            capture_output=True,
            check=True,
            text=True,
        ).stdout.strip()
        port = free_port()
        env.update(
            AILERON_TEE_PROVIDER="local",
            AILERON_ENCLAVE_BIND="127.0.0.1",
            AILERON_ENCLAVE_PORT=str(port),
            AILERON_ENCLAVE_ATTESTATIONS_PER_MINUTE="100000",
            AILERON_ENCLAVE_ADMISSION_KEYS=keys,
        )
        out = self.work / "enclave.out"
        self._spawn("aileron-enclave", env, out, self.work / "enclave.log")
        _wait(lambda: "listening" in _read(out), "the enclave did not start", self.work / "enclave.log")
        digest = "sha256:" + hashlib.sha256((self.bin / "aileron-enclave").read_bytes()).hexdigest()
        return f"https://127.0.0.1:{port}", digest

    def _start_server(self, enclave_url: str, digest: str) -> None:
        port = free_port()
        self.server = f"http://127.0.0.1:{port}"
        env = self._base_env()
        env.update(
            AILERON_ADDR=f"127.0.0.1:{port}",
            AILERON_PUBLIC_URL=self.server,
            AILERON_DATABASE_URL=_with_database(self.admin_url, self.db),
            AILERON_AUTO_VERIFY_EMAIL="true",
            AILERON_RATE_LIMIT_PER_ADDR="100000000",
            AILERON_RATE_LIMIT_PER_ACCOUNT="100000000",
            AILERON_TEE_PROVIDER="local",
            AILERON_ENCLAVE_URL=enclave_url,
            AILERON_ENCLAVE_IMAGE_DIGEST=digest,
        )
        log = self.work / "server.log"
        self._spawn("aileron-server", env, log, log)
        _wait(lambda: _healthy(self.server), "the server did not start", log)

    def _sign_in(self, digest: str) -> None:
        email = "sdk-python@example.com"
        answer = httpx.post(f"{self.server}/auth/signup", json={"email": email, "password": PASSWORD})
        answer.raise_for_status()
        policy = self.work / "policy.toml"
        policy.write_text(
            'audience = "aileron-enclave"\n'
            f'image_digests = ["{digest}"]\n'
            'hwmodels = ["LOCAL_INSECURE"]\n'
            "allow_debug = true\n"
            'issuer = "https://aileron.local/attestation"\n'
            "allow_dangerous_settings = true\n"
        )
        root = self.work / "ca" / "root.pem"
        self.cli(
            "login",
            "--server",
            self.server,
            "--email",
            email,
            "--policy",
            str(policy),
            "--root",
            str(root),
            stdin=PASSWORD + "\n",
        )

    # --- use --------------------------------------------------------------------------------

    def cli(self, *args: str, stdin: str = "") -> str:
        """Runs the CLI as the signed-in owner; its standard output, or an error with its stderr."""
        env = self._base_env()
        env["AILERON_CONFIG_DIR"] = str(self.work / "config")
        done = subprocess.run(
            [self.bin / "aileron", *args], env=env, input=stdin, capture_output=True, text=True, timeout=120
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"aileron {' '.join(args[:2])} failed ({done.returncode}): {done.stderr}{done.stdout}"
            )
        return done.stdout

    def lock(self) -> None:
        self.cli("vault", "lock")

    def unlock(self) -> None:
        self.cli("vault", "unlock", stdin=PASSPHRASE + "\n")

    def logs(self) -> str:
        """Everything the services printed (for the tests that look for leaks)."""
        return "".join(_read(p) for p in sorted(self.work.glob("*.log")) + sorted(self.work.glob("*.out")))

    # --- stop -------------------------------------------------------------------------------

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.upstream.stop()
        try:
            self._psql(f"DROP DATABASE IF EXISTS {self.db} WITH (FORCE)")
        finally:
            shutil.rmtree(self.work, ignore_errors=True)

    def _spawn(self, binary: str, env: Mapping[str, str], out: Path, err: Path) -> None:
        with open(out, "ab") as stdout, open(err, "ab") as stderr:
            self.processes.append(
                subprocess.Popen(
                    [self.bin / binary], env=dict(env), stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL
                )
            )

    def _psql(self, statement: str) -> None:
        subprocess.run(["psql", "-q", self.admin_url, "-c", statement], check=True, capture_output=True)


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/v1/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        return ""


def _wait(ready: Any, what: str, log: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what}:\n{_read(log)[-4000:]}")
