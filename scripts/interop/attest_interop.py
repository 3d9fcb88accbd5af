#!/usr/bin/env python3
"""Interoperability of the attestation verifier with an independent implementation.

Tokens minted here by PyJWT + `cryptography` (its own CA chain, its own keys) go through
`aileron attest verify`; each must get the verdict (and the failed check) a correct verifier gives.
In the other direction, PyJWT verifies tokens minted by Aileron's local issuer.
Prints `interop: N passed, M failed`; exits 1 on any failure.
"""
import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import subprocess
import sys
import tempfile
import time

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

TARGET = os.environ.get("CARGO_TARGET_DIR") or os.path.expanduser("~/.cache/aileron/target")
AILERON = os.path.join(TARGET, "debug", "aileron")
MINT = os.path.join(TARGET, "debug", "examples", "mint_token")
DIGEST = "sha256:" + "c" * 64
NONCE = "interop-nonce-0123"
results = []


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Interop"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def cert(subject, subject_key, issuer, issuer_key, ca, days=30):
    now = dt.datetime.now(dt.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(name(subject)).issuer_name(name(issuer))
               .public_key(subject_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
    return builder.sign(issuer_key, hashes.SHA256())


def der_b64(c):
    return base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode()


def claims(**overrides):
    now = int(time.time())
    c = {"aud": "interop", "iss": "https://confidentialcomputing.googleapis.com", "iat": now, "nbf": now,
         "exp": now + 3600, "eat_nonce": NONCE, "secboot": True, "hwmodel": "GCP_AMD_SEV",
         "swname": "CONFIDENTIAL_SPACE", "swversion": ["250800"], "dbgstat": "disabled-since-boot",
         "submods": {"container": {"image_digest": DIGEST}, "gce": {"project_id": "interop-project"},
                     "confidential_space": {"support_attributes": ["STABLE"]}}}
    c.update(overrides)
    return c


def check(name, ok, detail=""):
    results.append(ok)
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else f": {detail}"))


def run_verify(workdir, token, extra):
    path = os.path.join(workdir, "token.jwt")
    with open(path, "w") as f:
        f.write(token)
    cmd = [AILERON, "attest", "verify", "--token", path, "--policy", os.path.join(workdir, "policy.toml"),
           "--nonce", NONCE] + extra
    p = subprocess.run(cmd, capture_output=True, text=True)
    return p.returncode, p.stdout.strip()


def main():
    work = tempfile.mkdtemp()
    with open(os.path.join(work, "policy.toml"), "w") as f:
        f.write(f'audience = "interop"\nimage_digests = ["{DIGEST}"]\nproject_ids = ["interop-project"]\n'
                'support_attributes = ["STABLE"]\n')
    root_key, inter_key, leaf_key = key(), key(), key()
    root = cert("Interop Root", root_key, "Interop Root", root_key, ca=True, days=3650)
    inter = cert("Interop Intermediate", inter_key, "Interop Root", root_key, ca=True)
    inter_not_ca = cert("Interop Intermediate", inter_key, "Interop Root", root_key, ca=False)
    leaf = cert("Interop Leaf", leaf_key, "Interop Intermediate", inter_key, ca=False)
    root_pem = os.path.join(work, "root.pem")
    with open(root_pem, "wb") as f:
        f.write(root.public_bytes(serialization.Encoding.PEM))
    leaf_pem = leaf_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())
    x5c = [der_b64(leaf), der_b64(inter), der_b64(root)]
    numbers = leaf_key.public_key().public_numbers()
    jwk = {"kty": "RSA", "kid": "interop-1", "alg": "RS256", "use": "sig",
           "n": b64url(numbers.n.to_bytes(256, "big")), "e": b64url(numbers.e.to_bytes(3, "big"))}
    jwks_path = os.path.join(work, "jwks.json")
    with open(jwks_path, "w") as f:
        json.dump({"keys": [jwk]}, f)
    pki = ["--root", root_pem]

    def pyjwt(c, headers=None, alg="RS256", k=leaf_pem):
        return jwt.encode(c, k, algorithm=alg, headers=headers if headers is not None else {"x5c": x5c})

    cases = [
        ("valid PKI token", pyjwt(claims()), pki, None),
        ("valid OIDC token", pyjwt(claims(), headers={"kid": "interop-1"}), ["--jwks", jwks_path], None),
        ("eat_nonce as an array", pyjwt(claims(eat_nonce=["x" * 12, NONCE])), pki, None),
        ("expired", pyjwt(claims(exp=int(time.time()) - 120)), pki, "expiry"),
        ("wrong audience", pyjwt(claims(aud="someone-else")), pki, "audience"),
        ("debug image", pyjwt(claims(dbgstat="enabled")), pki, "dbgstat"),
        ("wrong project", pyjwt(claims(submods={"container": {"image_digest": DIGEST}, "gce": {"project_id": "x"},
                                                "confidential_space": {"support_attributes": ["STABLE"]}})), pki, "project_id"),
        ("RS512", pyjwt(claims(), alg="RS512"), pki, "algorithm"),
        ("PS256", pyjwt(claims(), alg="PS256"), pki, "algorithm"),
        ("crit header", pyjwt(claims(), headers={"x5c": x5c, "crit": ["exp"]}), pki, "header"),
        ("jku header", pyjwt(claims(), headers={"kid": "interop-1", "jku": "https://127.0.0.1:9/k"}), ["--jwks", jwks_path], "header"),
        ("unknown kid", pyjwt(claims(), headers={"kid": "interop-2"}), ["--jwks", jwks_path], "key"),
        ("intermediate not a CA", pyjwt(claims(), headers={"x5c": [der_b64(leaf), der_b64(inter_not_ca)]}), pki, "chain"),
        ("leaf alone", pyjwt(claims(), headers={"x5c": [der_b64(leaf)]}), pki, "chain"),
    ]
    # Tampered signature.
    good = pyjwt(claims())
    h, c, s = good.split(".")
    cases.append(("tampered claims", f"{h}.{b64url(json.dumps(claims(aud='interop ')).encode())}.{s}", pki, "signature"))
    # HS256 keyed with the leaf's public key (PyJWT refuses to do this, so by hand).
    pub = leaf_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    hh = b64url(json.dumps({"alg": "HS256", "kid": "interop-1"}).encode())
    cc = b64url(json.dumps(claims()).encode())
    mac = hmac.new(pub, f"{hh}.{cc}".encode(), hashlib.sha256).digest()
    cases.append(("HS256 with the public key", f"{hh}.{cc}.{b64url(mac)}", ["--jwks", jwks_path], "algorithm"))
    # Duplicate key in the claims, validly signed.
    body = json.dumps(claims())[:-1] + ', "aud": "interop"}'
    hdr = b64url(json.dumps({"alg": "RS256", "typ": "JWT", "x5c": x5c}).encode())
    inp = f"{hdr}.{b64url(body.encode())}"
    sig = leaf_key.sign(inp.encode(), padding.PKCS1v15(), hashes.SHA256())
    cases.append(("duplicate claim key", f"{inp}.{b64url(sig)}", pki, "format"))

    for name, token, extra, expected in cases:
        code, out = run_verify(work, token, extra)
        if expected is None:
            check(name, code == 0, f"exit {code}: {out}")
        else:
            check(name, code == 1 and out.startswith(f"reject: {expected}: "), f"exit {code}: {out}")

    # The other direction: PyJWT accepts what Aileron's local issuer mints.
    ca_dir = os.path.join(work, "local-ca")
    for kind in ("pki", "oidc"):
        p = subprocess.run([MINT, ca_dir, "interop", DIGEST, kind, NONCE], capture_output=True, text=True)
        if p.returncode != 0:
            check(f"local issuer mints a {kind} token", False, p.stderr)
            continue
        token = p.stdout.strip()
        if kind == "pki":
            leaf_der = base64.b64decode(jwt.get_unverified_header(token)["x5c"][0])
            public = x509.load_der_x509_certificate(leaf_der).public_key()
        else:
            with open(os.path.join(ca_dir, "jwks.json")) as f:
                public = jwt.PyJWK(json.load(f)["keys"][0]).key
        try:
            decoded = jwt.decode(token, public, algorithms=["RS256"], audience="interop",
                                 issuer="https://aileron.local/attestation")
            check(f"PyJWT verifies a local-issuer {kind} token", decoded["eat_nonce"] == NONCE, decoded)
        except jwt.PyJWTError as e:
            check(f"PyJWT verifies a local-issuer {kind} token", False, repr(e))

    passed, failed = results.count(True), results.count(False)
    print(f"interop: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
