"""A fleet on one machine, as a team runs it on several: PostgreSQL (a fresh database), N local
enclaves, M API servers configured with every enclave (AILERON_ENCLAVE_URLS), nginx from Debian
in front of the servers (round robin), a recording upstream and a mail recorder speaking Resend's
API, each on a free loopback port. Used by scripts/scale/test_fleet.py and scripts/bench-scale.
Standard library only."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

SIGNING_KEY = "fleet-test-signing-key-0123456789abcdef0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def enclave_id(url: str) -> str:
    """The id /v1/tee/status shows for an enclave: 12 hex digits of SHA-256 of its URL."""
    return hashlib.sha256(url.encode()).hexdigest()[:12]


class Recorder:
    """A loopback HTTP server that answers 200 and records each request's path, headers and body."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                with recorder.lock:
                    recorder.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                payload = b'{"id":"re_test"}'
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()

    def code_for(self, email: str, seconds: float = 15) -> str:
        """The last six-digit code mailed to `email`."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self.lock:
                mails = [json.loads(b) for p, _, b in self.seen if p.endswith("/emails") and b]
            for mail in reversed(mails):
                to = mail.get("to")
                if email in (to if isinstance(to, list) else [to]):
                    found = re.search(r"\b(\d{6})\b", mail.get("text") or mail.get("html") or "")
                    if found:
                        return found.group(1)
            time.sleep(0.05)
        raise RuntimeError(f"no code was mailed to {email}")


class Response:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    @property
    def replica(self) -> str:
        return self.headers.get("x-aileron-replica", "")


def call(method: str, url: str, body: Any = None, token: str = "", timeout: float = 30) -> Response:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return Response(answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read())
    except urllib.error.HTTPError as answer:
        return Response(answer.code, {k.lower(): v for k, v in answer.headers.items()}, answer.read())


class Fleet:
    """`start()` brings the fleet up; `stop()` takes it down and drops the database."""

    def __init__(self, bin_dir: Path, enclaves: int = 2, servers: int = 2, server_env: dict[str, str] | None = None) -> None:
        self.bin = bin_dir
        self.work = Path(tempfile.mkdtemp(prefix="aileron-fleet-"))
        self.admin_url = os.environ.get("AILERON_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
        self.db = f"aileron_fleet_{uuid.uuid4().hex[:12]}"
        self.n_enclaves, self.n_servers = enclaves, servers
        self.server_env = server_env or {}
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.upstream = Recorder()
        self.mail = Recorder()
        self.enclave_urls: list[str] = []
        self.server_urls: list[str] = []
        self.lb = ""
        self.digest = "sha256:" + hashlib.sha256((bin_dir / "aileron-enclave").read_bytes()).hexdigest()

    # --- start ------------------------------------------------------------------------------

    def start(self) -> None:
        keys = subprocess.run(
            [self.bin / "aileron-server", "admission-key"], env=self._env(), capture_output=True, check=True, text=True
        ).stdout.strip()
        for i in range(self.n_enclaves):
            self.enclave_urls.append(self._start_enclave(f"enclave{i + 1}", keys))
        subprocess.run(["psql", "-q", self.admin_url, "-c", f"CREATE DATABASE {self.db}"], check=True, capture_output=True)
        lb_port = free_port()
        self.lb = f"http://127.0.0.1:{lb_port}"
        for i in range(self.n_servers):
            self.server_urls.append(self._start_server(f"server{i + 1}"))
        self.balance(self.server_urls, lb_port)

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AILERON_")}
        env.update(
            AILERON_DANGEROUS_ALLOW_PRIVATE_UPSTREAMS="true",
            AILERON_JWT_SIGNING_KEY=SIGNING_KEY,
            AILERON_LOCAL_CA_DIR=str(self.work / "ca"),
            RUST_LOG="warn",
        )
        return env

    def _start_enclave(self, name: str, keys: str) -> str:
        port = free_port()
        env = self._env()
        env.update(
            AILERON_TEE_PROVIDER="local",
            AILERON_ENCLAVE_BIND="127.0.0.1",
            AILERON_ENCLAVE_PORT=str(port),
            AILERON_ENCLAVE_ATTESTATIONS_PER_MINUTE="1000000",
            AILERON_ENCLAVE_ADMISSION_KEYS=keys,
        )
        out = self.work / f"{name}.out"
        self._spawn(name, "aileron-enclave", env, out, self.work / f"{name}.log")
        self._wait(lambda: "listening" in _read(out), f"{name} did not start", self.work / f"{name}.log")
        return f"https://127.0.0.1:{port}"

    def _start_server(self, name: str) -> str:
        port = free_port()
        env = self._env()
        env.update(
            AILERON_ADDR=f"127.0.0.1:{port}",
            AILERON_PUBLIC_URL=self.lb,
            AILERON_DATABASE_URL=urlunsplit(urlsplit(self.admin_url)._replace(path=f"/{self.db}")),
            AILERON_TRUSTED_PROXY_HOPS="1",
            AILERON_TEE_PROVIDER="local",
            AILERON_ENCLAVE_URLS=",".join(self.enclave_urls),
            AILERON_ENCLAVE_IMAGE_DIGEST=self.digest,
            RESEND_API_KEY="re_fleet_test",
            RESEND_API_URL=self.mail.base,
        )
        env.update(self.server_env)
        log = self.work / f"{name}.log"
        self._spawn(name, "aileron-server", env, log, log)
        url = f"http://127.0.0.1:{port}"
        self._wait(lambda: _healthy(url), f"{name} did not start", log)
        return url

    def balance(self, servers: list[str], port: int | None = None) -> None:
        """(Re)starts nginx, round robin over `servers`; it names the replica that answered in
        `X-Aileron-Replica`."""
        if "nginx" in self.processes:
            self.kill("nginx")
        port = port or int(urlsplit(self.lb).port or 0)
        temp = self.work / "nginx"
        temp.mkdir(exist_ok=True)
        upstreams = "\n".join(f"    server {urlsplit(s).netloc};" for s in servers)
        user = "user root;\n" if os.geteuid() == 0 else ""
        conf = self.work / "nginx.conf"
        conf.write_text(
            f"""{user}worker_processes 1;
daemon off;
pid {temp}/nginx.pid;
error_log {self.work}/nginx.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {temp}/body;
  proxy_temp_path {temp}/proxy;
  fastcgi_temp_path {temp}/fastcgi;
  uwsgi_temp_path {temp}/uwsgi;
  scgi_temp_path {temp}/scgi;
  upstream aileron {{
{upstreams}
    keepalive 64;
  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://aileron;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      add_header X-Aileron-Replica $upstream_addr always;
    }}
  }}
}}
"""
        )
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        log = self.work / "nginx.log"
        with open(log, "ab") as out:
            self.processes["nginx"] = subprocess.Popen(
                [nginx, "-c", str(conf), "-p", str(temp)], stdout=out, stderr=out, stdin=subprocess.DEVNULL
            )
        self._wait(lambda: _healthy(self.lb), "nginx did not start", log)

    # --- use --------------------------------------------------------------------------------

    def kill(self, name: str) -> None:
        process = self.processes.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait()

    def cli(self, config: Path, *args: str, stdin: str = "") -> str:
        env = self._env()
        env["AILERON_CONFIG_DIR"] = str(config)
        done = subprocess.run(
            [self.bin / "aileron", *args], env=env, input=stdin, capture_output=True, text=True, timeout=120
        )
        if done.returncode != 0:
            raise RuntimeError(f"aileron {' '.join(args[:2])} failed ({done.returncode}): {done.stderr}{done.stdout}")
        return done.stdout

    def policy(self) -> Path:
        path = self.work / "policy.toml"
        path.write_text(
            'audience = "aileron-enclave"\n'
            f'image_digests = ["{self.digest}"]\n'
            'hwmodels = ["LOCAL_INSECURE"]\n'
            "allow_debug = true\n"
            'issuer = "https://aileron.local/attestation"\n'
            "allow_dangerous_settings = true\n"
        )
        return path

    def psql(self, query: str) -> str:
        url = urlunsplit(urlsplit(self.admin_url)._replace(path=f"/{self.db}"))
        return subprocess.run(["psql", "-qtA", url, "-c", query], check=True, capture_output=True, text=True).stdout.strip()

    def logs(self) -> str:
        return "".join(_read(p) for p in sorted(self.work.glob("*.log")) + sorted(self.work.glob("*.out")))

    # --- stop -------------------------------------------------------------------------------

    def stop(self) -> None:
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.upstream.stop()
        self.mail.stop()
        subprocess.run(
            ["psql", "-q", self.admin_url, "-c", f"DROP DATABASE IF EXISTS {self.db} WITH (FORCE)"], capture_output=True
        )
        shutil.rmtree(self.work, ignore_errors=True)

    def _spawn(self, name: str, binary: str, env: dict[str, str], out: Path, err: Path) -> None:
        with open(out, "ab") as stdout, open(err, "ab") as stderr:
            self.processes[name] = subprocess.Popen(
                [self.bin / binary], env=env, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL
            )

    @staticmethod
    def _wait(ready: Any, what: str, log: Path, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if ready():
                return
            time.sleep(0.1)
        raise RuntimeError(f"{what}:\n{_read(log)[-4000:]}")


def _healthy(base: str) -> bool:
    try:
        return call("GET", f"{base}/v1/health", timeout=1).status == 200
    except OSError:
        return False


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        return ""
