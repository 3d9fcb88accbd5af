#!/usr/bin/env python3
"""The enclave protocol implemented from DESIGN §4 alone, without the Rust SDK.

Starts a real `aileron-enclave` (local mode), then with Python's ssl, `cryptography`, PyJWT and
`pyhpke`: attests it (fresh nonce, x5c chain to the local root, binding recomputed, TLS key
checked), signs an admission ticket (EdDSA JWT) with a key the enclave was started with, seals a
credential with HPKE, escrows it, and makes a brokered request to a recording upstream (on
loopback: the enclave runs with its development setting, which its token reports). Prints `interop: N passed, M failed`; exits 1 on any failure.
"""
import base64
import hashlib
import http.client
import http.server
import json
import os
import secrets
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pyhpke import AEADId, CipherSuite, KDFId, KEMId

TARGET = os.environ.get("CARGO_TARGET_DIR") or os.path.expanduser("~/.cache/aileron/target")
ENCLAVE = os.path.join(TARGET, "debug", "aileron-enclave")
SECRET = "sk-python-interop-5e8d21"
results = []


def check(name, ok, detail=""):
    results.append(bool(ok))
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else f": {detail}"))


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Recorder(http.server.BaseHTTPRequestHandler):
    seen = []

    def do_GET(self):
        Recorder.seen.append(self.headers.get("Authorization", ""))
        body = f"echo: {self.headers.get('Authorization', '')}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def spki_sha256(der_cert: bytes) -> bytes:
    cert = x509.load_der_x509_certificate(der_cert)
    spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).digest()


def call(port, method, path, body=None, pin=None, headers=None):
    """One HTTPS request; with `pin`, the server's SPKI hash is checked before sending anything."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the certificate is self-signed; trust comes from the pin
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=30)
    conn.connect()
    seen = spki_sha256(conn.sock.getpeercert(binary_form=True))
    if pin is not None and seen != pin:
        raise RuntimeError("TLS key is not the attested one")
    data = json.dumps(body).encode() if body is not None else None
    conn.request(method, path, body=data, headers={"Content-Type": "application/json", **(headers or {})})
    response = conn.getresponse()
    payload = response.read()
    conn.close()
    return response.status, (json.loads(payload) if payload else None), seen


def verify_chain(token, root_pem):
    header = jwt.get_unverified_header(token)
    certs = [x509.load_der_x509_certificate(base64.b64decode(c)) for c in header["x5c"]]
    root = x509.load_pem_x509_certificate(root_pem)
    leaf, intermediate = certs[0], certs[1]
    for child, parent in ((leaf, intermediate), (intermediate, root)):
        parent.public_key().verify(child.signature, child.tbs_certificate_bytes, padding.PKCS1v15(), child.signature_hash_algorithm)
    return leaf.public_key()


def main():
    work = tempfile.mkdtemp()
    upstream = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    up = f"http://127.0.0.1:{upstream.server_address[1]}"
    admission_key = Ed25519PrivateKey.generate()
    admission_public = admission_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    env = {"AILERON_ENCLAVE_BIND": "127.0.0.1", "AILERON_ENCLAVE_PORT": "0", "AILERON_LOCAL_CA_DIR": os.path.join(work, "ca"),
           "AILERON_ENCLAVE_ADMISSION_KEYS": b64u(admission_public),
           "AILERON_DANGEROUS_ALLOW_PRIVATE_UPSTREAMS": "true", "PATH": os.environ.get("PATH", "")}
    proc = subprocess.Popen([ENCLAVE], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = proc.stdout.readline()
        port = int(line.split("https://")[1].split()[0].rsplit(":", 1)[1])
        with open(ENCLAVE, "rb") as f:
            digest = "sha256:" + hashlib.sha256(f.read()).hexdigest()
        with open(os.path.join(work, "ca", "root.pem"), "rb") as f:
            root_pem = f.read()

        # Attest: fresh nonce, verify the token, recompute the binding, check the TLS key.
        nonce = secrets.token_urlsafe(24)
        status, att, seen_spki = call(port, "POST", "/v1/attestation", {"nonce": nonce})
        check("attestation answers 200", status == 200, status)
        boot_id = bytes.fromhex(att["boot_id"])
        hpke_pk = unb64u(att["hpke_public_key"])
        spki = bytes.fromhex(att["tls_spki_sha256"])
        binding = b64u(hashlib.sha256(b"aileron-enclave-binding-v1" + boot_id + hpke_pk + spki).digest())
        leaf_key = verify_chain(att["token"], root_pem)
        claims = jwt.decode(att["token"], leaf_key, algorithms=["RS256"], audience="aileron-enclave",
                            issuer="https://aileron.local/attestation")
        nonces = claims["eat_nonce"] if isinstance(claims["eat_nonce"], list) else [claims["eat_nonce"]]
        check("eat_nonce binds the nonce and the binding", nonce in nonces and binding in nonces, nonces)
        check("image digest is the enclave executable's", claims["submods"]["container"]["image_digest"] == digest)
        check("TLS key of the connection is the attested one", seen_spki == spki)
        env_claim = claims["submods"]["container"].get("env", {})
        check("the token reports the development setting", env_claim.get("AILERON_DANGEROUS_ALLOW_PRIVATE_UPSTREAMS") == "true", env_claim)

        # Seal and escrow.
        expires = (datetime.now(timezone.utc) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        scope = json.dumps({"allow": [{"methods": ["GET"], "url_prefix": up + "/"}],
                            "inject": {"header": "Authorization", "format": "Bearer {secret}"},
                            "expires_at": expires, "max_uses": 3}).encode()
        suite = CipherSuite.new(KEMId.DHKEM_X25519_HKDF_SHA256, KDFId.HKDF_SHA256, AEADId.AES256_GCM)
        enc, sender = suite.create_sender_context(suite.kem.deserialize_public_key(hpke_pk), info=b"aileron/escrow/v1")
        ciphertext = sender.seal(SECRET.encode(), aad=scope)
        sealed = {"scope": b64u(scope), "enc": b64u(enc), "ciphertext": b64u(ciphertext)}
        status, err, _ = call(port, "POST", "/v1/escrows", sealed, pin=spki)
        check("without an admission ticket nothing is escrowed", status == 401 and err["error"]["code"] == "admission_required", err)
        now = int(time.time())
        ticket = jwt.encode({"iss": "aileron-admission", "aud": "aileron-enclave", "sub": "python-interop",
                             "max_escrows": 5, "iat": now, "exp": now + 300}, admission_key, algorithm="EdDSA")
        status, created, _ = call(port, "POST", "/v1/escrows", sealed, pin=spki, headers={"Aileron-Admission": ticket})
        check("escrow created with an admission ticket", status == 201, (status, created))
        handle = {"Authorization": "Bearer " + created["handle"]}

        # A brokered request: injected upstream, redacted on the way back.
        status, resp, _ = call(port, "POST", f"/v1/escrows/{created['escrow_id']}/requests",
                               {"method": "GET", "url": up + "/echo"}, pin=spki, headers=handle)
        body = unb64u(resp["body"]).decode() if status == 200 else ""
        check("brokered request answers 200", status == 200 and resp["status"] == 200, (status, resp))
        check("the upstream received the secret", "Bearer " + SECRET in Recorder.seen)
        check("the answer has the secret redacted", SECRET not in body and "[REDACTED]" in body, body)

        # Out of scope, wrong handle, status, revoke.
        status, err, _ = call(port, "POST", f"/v1/escrows/{created['escrow_id']}/requests",
                              {"method": "GET", "url": "https://evil.example/"}, pin=spki, headers=handle)
        check("out of scope is 403 scope_violation", status == 403 and err["error"]["code"] == "scope_violation", err)
        status, err, _ = call(port, "GET", f"/v1/escrows/{created['escrow_id']}", pin=spki,
                              headers={"Authorization": "Bearer " + b64u(secrets.token_bytes(32))})
        check("a wrong handle is 404 escrow_not_found", status == 404 and err["error"]["code"] == "escrow_not_found", err)
        status, st, _ = call(port, "GET", f"/v1/escrows/{created['escrow_id']}", pin=spki, headers=handle)
        check("status counts one use", status == 200 and st["uses"] == 1 and st["max_uses"] == 3, st)
        status, _, _ = call(port, "DELETE", f"/v1/escrows/{created['escrow_id']}", pin=spki, headers=handle)
        check("revoke answers 204", status == 204, status)
        status, err, _ = call(port, "GET", f"/v1/escrows/{created['escrow_id']}", pin=spki, headers=handle)
        check("a revoked escrow is 404", status == 404, status)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        upstream.shutdown()
    passed, failed = results.count(True), results.count(False)
    print(f"interop: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
