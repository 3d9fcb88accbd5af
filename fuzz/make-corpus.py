#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target to fuzz/corpus/<target>/<case>.

The seeds are the inputs a reviewer would write by hand (valid inputs, and the tricky spellings
each target exists for); the fuzzer mutates from there. Run it again after changing a case:
it rewrites the corpus directories from scratch. Usage: fuzz/make-corpus.py
"""
import base64
import hashlib
import hmac
import json
import shutil
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "corpus"
VECTORS = Path(__file__).resolve().parent.parent / "attest" / "tests" / "data"

# The constants of the targets (fuzz_targets/*.rs).
NOW = 1_893_456_000  # verify_claims: 2030-01-01T00:00:00Z
AUDIENCE = "aileron-fuzz"
NONCE = "fuzz-nonce-0123456789"
DIGEST = "sha256:" + "a" * 64


def scope_check():
    """The request line, then allow rules (`METHODS URL_PREFIX`); a leading `!` is the
    dangerous private setting."""
    api = "GET,POST https://api.example.com/v1/"
    cases = {
        "valid": f"GET https://api.example.com/v1/users\n{api}\n",
        "valid-exact-path": "GET https://api.example.com/v1\nGET https://api.example.com/v1\n",
        "prefix-not-on-segment-boundary": "GET https://api.example.com/v10\nGET https://api.example.com/v1\n",
        "second-rule-with-port": "PUT https://uploads.example.com:8443/files/a\n"
        f"{api}\nPOST,PUT https://uploads.example.com:8443/files/\n",
        "default-port-and-case": f"GET HTTPS://API.EXAMPLE.COM:443/v1/x\n{api}\n",
        "encoded-dot-dot-slash": f"GET https://api.example.com/v1/..%2fadmin\n{api}\n",
        "encoded-dot-segment": f"GET https://api.example.com/v1/%2E%2e/admin\n{api}\n",
        "dot-dot-semicolon": f"GET https://api.example.com/v1/..;/admin\n{api}\n",
        "encoded-backslash": f"GET https://api.example.com/v1/%5c..%5cadmin\n{api}\n",
        "double-encoded": f"GET https://api.example.com/v1/%252e%252e%252fadmin\n{api}\n",
        "backslashes": f"GET https://api.example.com\\v1\\..\\admin\n{api}\n",
        "userinfo": f"GET https://user:pw@api.example.com/v1/\n{api}\n",
        "trailing-dot-host": "GET https://api.example.com./v1/x\nGET https://api.example.com./v1/\n",
        "lower-case-method": "get https://api.example.com/v1/\nget https://api.example.com/v1/\n",
        "rule-with-query": "GET https://api.example.com/v1/?x\nGET https://api.example.com/v1/?x=1\n",
        "plain-http": "GET http://api.example.com/v1/\nGET http://api.example.com/v1/\n",
        "hex-ipv4": "GET https://0x7f.1/v1/\nGET https://0x7f.1/\n",
        "decimal-ipv4": "GET https://2130706433/\nGET https://2130706433/\n",
        "ipv4-mapped-ipv6": "GET https://[::ffff:127.0.0.1]/\nGET https://[::ffff:127.0.0.1]/\n",
        "nat64-metadata": "GET https://[64:ff9b::a9fe:a9fe]/\nGET https://[64:ff9b::a9fe:a9fe]/\n",
        "metadata-ip": "GET https://169.254.169.254/computeMetadata/v1/\nGET https://169.254.169.254/\n",
        "metadata-name": "GET https://metadata.google.internal/computeMetadata/v1/\n"
        "GET https://METADATA.GOOGLE.INTERNAL./\n",
        "localhost": "GET https://LOCALHOST./\nGET https://api.localhost/\n",
        "fullwidth-localhost": "GET https://ｌｏｃａｌｈｏｓｔ/\nGET https://ｌｏｃａｌｈｏｓｔ/\n",
        "ip-with-trailing-dots": "GET https://127.0.0.1../\nGET https://127.0.0.1../\n",
        "public-ipv4": "GET https://8.8.8.8/dns-query\nGET https://8.8.8.8/\n",
        "public-ipv6": "GET https://[2606:4700::1111]/dns-query\nGET https://[2606:4700::1111]/\n",
        "dangerous-private": "!GET http://127.0.0.1:8080/v1/x\nGET,POST http://127.0.0.1:8080/v1/\n",
        "dangerous-private-dot-dot": "!GET http://localhost:8080/v1/%2e%2e/admin\nGET http://localhost:8080/\n",
    }
    return {name: text.encode() for name, text in cases.items()}


def url_normalise():
    """Request URLs against `GET https://api.example.com/v1/`."""
    urls = {
        "valid": "https://api.example.com/v1/users?page=2#top",
        "upper-case-and-default-port": "HTTPS://API.Example.COM:443/v1/x",
        "no-slashes": "https:api.example.com/v1/x",
        "dot-segment": "https://api.example.com/v1/./x",
        "dot-dot-out": "https://api.example.com/v1/../admin",
        "encoded-dot-dot-slash": "https://api.example.com/v1/..%2f..%2fadmin",
        "encoded-dot-segment": "https://api.example.com/v1/%2e%2E/admin",
        "dot-dot-semicolon": "https://api.example.com/v1/..;/admin",
        "encoded-backslash": "https://api.example.com/v1/%5c..%5cadmin",
        "double-encoded": "https://api.example.com/v1/%252e%252e%252fadmin",
        "encoded-nul": "https://api.example.com/v1/a%00b",
        "backslashes": "https://api.example.com\\v1\\..\\admin",
        "tab-and-newline": "https://api.example.com/v1/\t\n..%2f\n",
        "userinfo": "https://user:pw@api.example.com/v1/",
        "userinfo-lookalike": "https://api.example.com@evil.example/v1/",
        "fragment-lookalike": "https://evil.example#@api.example.com/v1/",
        "other-port": "https://api.example.com:8443/v1/",
        "trailing-dot-host": "https://api.example.com./v1/",
        "fullwidth-host": "https://ａｐｉ.example.com/v1/",
        "prefix-not-on-segment-boundary": "https://api.example.com/v10",
        "plain-http": "http://api.example.com/v1/",
        "scheme-relative": "//api.example.com/v1/",
        "hex-ipv4": "https://0x7f.1/v1/",
        "ipv4-mapped-ipv6": "https://[::ffff:127.0.0.1]/v1/",
    }
    return {name: url.encode() for name, url in urls.items()}


def redact_case(secret: bytes, text: bytes, at: int) -> bytes:
    """The input layout of the redact target: length byte, offset byte, secret, text."""
    assert 4 <= len(secret) < 64 and at < 256
    return bytes([len(secret) - 4, at]) + secret + text


def redact():
    doc = b'{"user":"alice","password":"","exp":1}'
    echo = (b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{"ok":true,"echo":{"headers":'
            b'{"authorization":"Bearer ","user-agent":"aileron"},"url":"https://api.example.com/v1/echo"},'
            b'"note":"' + b"lorem ipsum " * 12 + b'"}')
    return {
        "token-in-json": redact_case(b"sk_live_0123456789abcdef", b'{"token":"","ok":true}', 10),
        "bearer-header": redact_case(b"ghp_0123456789abcdefghij", b"Authorization: Bearer ", 22),
        "base64-document-offset-0": redact_case(b"hunter2-secret", doc, 0),
        "base64-document-offset-1": redact_case(b"hunter2-secret", doc, 28),
        "base64-document-offset-2": redact_case(b"hunter2-secret", doc, 29),
        "short-secret": redact_case(b"abcd", b"xxxxx", 1),
        "six-byte-secret": redact_case(b"s3cr3t", b"echo=&again=s3cr3t", 5),
        "json-and-percent-escapes": redact_case(b'p@ss/w+rd=?"\\', b'{"p":""}', 6),
        "binary-secret": redact_case(b"\x00\xff\xfe\x01\x80", b"\x00\x00\x00", 2),
        "secret-of-zero-bytes-in-base64": redact_case(b"\x00\x00\x00\x00", b"AAAA\x00", 3),
        "secret-made-of-the-marker": redact_case(b"ED]x", b"[REDACTx", 7),
        "secret-already-redacted-text": redact_case(b"[REDACTED]", b"[REDACTED]", 0),
        "long-response": redact_case(b"xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp", echo, echo.index(b"Bearer ") + 7),
    }


def strict_json():
    deep = b'{"a":' * 130 + b"1" + b"}" * 130
    cases = {
        "nested": rb'{"a":1,"b":{"a":2,"c":[{"a":3}]}}',
        "duplicate-top-level": rb'{"aud":"a","aud":"b"}',
        "duplicate-in-array": rb'{"x":[{"k":1,"k":2}]}',
        "duplicate-after-escape": rb'{"iss":"a","i\u0073s":"b"}',
        "duplicate-non-ascii-escape": b'{"\xc3\xa9":1,"\\u00e9":2}',
        "duplicate-empty-key": rb'{"":0,"":1}',
        "duplicate-equal-values": rb'{"a":{"b":1},"a":{"b":1}}',
        "distinct-keys-with-nul": rb'{"a\u0000":1,"a":2}',
        "two-objects": rb"{} {}",
        "array": b"[1]",
        "string": b'"{}"',
        "null": b"null",
        "unterminated": b"{",
        "trailing-comma": rb'{"a":1,}',
        "whitespace": b' \t\n{"n": null, "f": 1.5, "t": true}\r\n ',
        "byte-order-mark": b'\xef\xbb\xbf{"a":1}',
        "numbers": rb'{"big":18446744073709551616,"neg":-9223372036854775809,"f":1e308,"tiny":5e-324,"z":-0}',
        "number-out-of-range": rb'{"inf":1e400}',
        "surrogates": rb'{"pair":"\ud83d\ude00","lone":"\ud800"}',
        "deep": deep,
        "claims": json.dumps(claims(), separators=(",", ":")).encode(),
    }
    return cases


def claims(**changes):
    """Claims shaped like Google's (testkit's `google_shaped_claims`) at NOW, with changes."""
    c = {
        "aud": AUDIENCE,
        "exp": NOW + 3600,
        "iat": NOW,
        "iss": "https://confidentialcomputing.googleapis.com",
        "nbf": NOW,
        "sub": "https://www.googleapis.com/compute/v1/projects/test-project/zones/us-west1-b/instances/test",
        "eat_nonce": NONCE,
        "secboot": True,
        "oemid": 11129,
        "hwmodel": "GCP_INTEL_TDX",
        "swname": "CONFIDENTIAL_SPACE",
        "swversion": ["250800"],
        "dbgstat": "disabled-since-boot",
        "submods": {
            "confidential_space": {"support_attributes": ["LATEST", "STABLE", "USABLE"]},
            "container": {"image_digest": DIGEST, "image_reference": "test", "restart_policy": "Never"},
            "gce": {"zone": "us-west1-b", "project_id": "test-project", "project_number": "1",
                    "instance_name": "test", "instance_id": "1"},
        },
    }
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        target = c
        for p in parents:
            target = target[p]
        if value is DELETE:
            del target[leaf]
        else:
            target[leaf] = value
    return c


DELETE = object()


def verify_claims():
    def doc(**changes):
        return json.dumps(claims(**changes), separators=(",", ":")).encode()

    valid = doc()
    body = valid[1:]  # the claims without their opening brace, to prepend a key to
    cases = {
        "valid": valid,
        "valid-arrays": doc(aud=["other", AUDIENCE], eat_nonce=["n1", NONCE]),
        "valid-debug-env-off": doc(submods__container__env={"AILERON_DANGEROUS_ALLOW_PRIVATE_UPSTREAMS": "false"}),
        "duplicate-aud": b'{"aud":"other",' + body,
        "duplicate-aud-escaped": b'{"\\u0061ud":"other",' + body,
        "duplicate-nested": doc(submods__gce=None).replace(b'"gce":null', b'"gce":{"project_id":"x","project_id":"test-project"}'),
        "wrong-aud": doc(aud="other"),
        "wrong-iss": doc(iss="https://aileron.local/attestation"),
        "missing-nonce": doc(eat_nonce=[]),
        "expired": doc(exp=NOW - 61),
        "expired-within-leeway": doc(exp=NOW - 60),
        "not-yet-valid": doc(nbf=NOW + 61),
        "issued-in-future": doc(iat=NOW + 61),
        "exp-max": doc(exp=2**64 - 1),
        "exp-as-string": doc(exp=str(NOW + 3600)),
        "exp-fractional": doc(exp=NOW + 0.5),
        "debug": doc(dbgstat="enabled"),
        "no-secure-boot": doc(secboot=False),
        "local-hwmodel": doc(hwmodel="LOCAL_INSECURE"),
        "wrong-swname": doc(swname="CONFIDENTIAL_SPACE_DEBUG"),
        "wrong-digest": doc(submods__container__image_digest="sha256:" + "b" * 64),
        "upper-case-digest": doc(submods__container__image_digest="sha256:" + "A" * 64),
        "wrong-project": doc(submods__gce__project_id="other-project"),
        "no-gce": doc(submods__gce=DELETE),
        "not-stable": doc(submods__confidential_space__support_attributes=["LATEST"]),
        "dangerous-env": doc(submods__container__env={"AILERON_DANGEROUS_ALLOW_PRIVATE_UPSTREAMS": "true"}),
        "dangerous-env-override": doc(submods__container__env_override={"AILERON_DANGEROUS_X": " 1 "}),
        "unknown-claim-with-duplicate": b'{"extra":{"k":1,"k":2},' + body,
        "not-an-object": b"[]",
    }
    return cases


def b64url(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def jws(header: dict, claims: dict, signature: bytes = b"sig") -> bytes:
    return b".".join([b64url(json.dumps(header).encode()), b64url(json.dumps(claims).encode()), b64url(signature)])


def verify_token():
    """Tokens against Google's pinned root: Google's real tokens (their signatures verify, their
    claims do not fit the target's policy) and malformed ones."""
    cases = {path.stem: path.read_bytes() for path in sorted(VECTORS.glob("*.jwt"))}
    real = cases["oak_ctf_sha2_sample"].strip()
    header, payload, signature = real.split(b".")
    hs256_input = b64url(b'{"alg":"HS256","typ":"JWT"}') + b"." + payload
    hs256 = hmac.new(b"key", hs256_input, hashlib.sha256).digest()
    cases |= {
        "empty": b"",
        "three-empty-parts": b"..",
        "four-parts": real + b".x",
        "alg-none": jws({"alg": "none"}, claims(), b""),
        "hs256": hs256_input + b"." + b64url(hs256),
        "crit-header": jws({"alg": "RS256", "typ": "JWT", "kid": "k", "crit": ["exp"]}, claims()),
        "jku-header": jws({"alg": "RS256", "jku": "https://evil.example/jwks"}, claims()),
        "garbage-x5c": jws({"alg": "RS256", "typ": "JWT", "x5c": ["MIIB", "!!"]}, claims()),
        "padded-base64": header + b"==." + payload + b"." + signature,
        "swapped-claims": header + b"." + b64url(json.dumps(claims()).encode()) + b"." + signature,
    }
    return cases


def main():
    for target in (verify_token, scope_check, url_normalise, redact, strict_json, verify_claims):
        directory = CORPUS / target.__name__
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        for name, data in target().items():
            (directory / name).write_bytes(data)
        print(f"{directory.relative_to(CORPUS.parent)}: {len(list(directory.iterdir()))} seeds")


if __name__ == "__main__":
    main()
