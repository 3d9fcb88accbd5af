/**
 * The client against an injected fake `fetch`: what it sends, how every answer maps to a result or
 * an error, header handling and limits. No stack needed: node --test runs this file in a process
 * of its own, beside the live tests (tests/live.test.ts).
 */

import { inspect } from "node:util";

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  AgentTokenNotAllowed,
  AileronError,
  Client,
  ConfigurationError,
  ConnectionFailed,
  DestinationNotAllowed,
  EscrowExpired,
  EscrowLost,
  EscrowUsedUp,
  InvalidRequest,
  MAX_BODY_BYTES,
  MAX_REQUEST_BYTES,
  NotEscrowed,
  NotFound,
  PayloadTooLarge,
  RateLimited,
  ScopeViolation,
  Unauthorized,
  Unavailable,
  UnexpectedResponse,
  UnsupportedBody,
  UpstreamError,
  VaultLocked,
  credentialFetch,
} from "../src/index.js";
import { b64u, fromB64u } from "../src/wire.js";
import { UNIT, contains, instanceOf, lacks, snapshotEnv, thrown } from "./check.js";

const TOKEN = "ail_agent_fakeTokenForUnitTests_0123456789abcdef";
const SERVER = "https://aileron.test";

interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
}

type Handler = (call: Call, signal: AbortSignal | undefined) => Response | Promise<Response>;

/** A client whose fetch records each call and answers with `handler`. */
function fake(handler: Handler, options: { timeoutMs?: number } = {}): { client: Client; calls: Call[] } {
  const calls: Call[] = [];
  const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const raw = init?.body as Uint8Array | undefined | null;
    const text = raw ? new TextDecoder().decode(raw) : undefined;
    const call: Call = {
      url: String(input),
      method: init?.method ?? "GET",
      headers: Object.fromEntries(new Headers(init?.headers).entries()),
      body: text === undefined ? undefined : JSON.parse(text),
    };
    calls.push(call);
    return handler(call, init?.signal ?? undefined);
  };
  return { client: new Client({ server: SERVER, token: TOKEN, fetch, ...options }), calls };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

const upstream = (status: number, headers: [string, string][], body: string): Response =>
  json(200, { status, headers, body: b64u(new TextEncoder().encode(body)) });

const refusal = (status: number, code: string, headers: Record<string, string> = {}): Response =>
  json(status, { error: { code, message: `the server said ${code}`, request_id: "req-42" } }, headers);

const get = (client: Client) => client.request("github", { method: "GET", url: "https://api.example.com/user" });

describe("what the client sends", () => {
  test("a brokered request: path, method upper-cased, header pairs, body base64url without padding, the token as bearer", UNIT, async () => {
    const { client, calls } = fake(() => upstream(200, [], "{}"));
    await client.request("github", {
      method: "post",
      url: new URL("https://api.example.com/x?y=1"),
      headers: [["x-a", "1"], ["x-a", "2"]],
      body: new Uint8Array([251, 255]),
    });

    assert.deepEqual(
      calls.map(({ url, method, body }) => ({ url, method, body })),
      [
        {
          url: `${SERVER}/v1/credentials/github/requests`,
          method: "POST",
          body: { method: "POST", url: "https://api.example.com/x?y=1", headers: [["x-a", "1"], ["x-a", "2"]], body: "-_8" },
        },
      ],
    );
    const { authorization, "content-type": contentType } = calls[0]!.headers;
    assert.deepEqual({ authorization, contentType }, { authorization: `Bearer ${TOKEN}`, contentType: "application/json" });
  });

  test("no headers and no body when there are none; an escrow's path for source escrow", UNIT, async () => {
    const { client, calls } = fake(() => upstream(200, [], ""));
    await client.request("deploy-key", { method: "GET", url: "https://x.example/", source: "escrow", body: "" });

    assert.equal(calls[0]!.url, `${SERVER}/v1/escrows/deploy-key/requests`);
    assert.deepEqual(calls[0]!.body, { method: "GET", url: "https://x.example/" });
  });

  test("a JSON value gets application/json unless a content type is given", UNIT, async () => {
    const { client, calls } = fake(() => upstream(200, [], ""));
    await client.request("github", { method: "POST", url: "https://x.example/", body: { a: [1] } });
    await client.request("github", { method: "POST", url: "https://x.example/", body: [1], headers: { "Content-Type": "application/vnd+json" } });

    assert.deepEqual((calls[0]!.body as { headers: unknown }).headers, [["content-type", "application/json"]]);
    assert.deepEqual((calls[1]!.body as { headers: unknown }).headers, [["Content-Type", "application/vnd+json"]]);
    assert.equal(new TextDecoder().decode(fromB64u((calls[0]!.body as { body: string }).body)), '{"a":[1]}');
  });

  test("checkScope posts the credential, method and URL", UNIT, async () => {
    const { client, calls } = fake(() => json(200, { allowed: false, reason: "outside" }));
    const verdict = await client.checkScope("github", "delete", "https://x.example/a");

    assert.deepEqual(verdict, { allowed: false, reason: "outside" });
    assert.deepEqual(
      [calls[0]!.url, calls[0]!.body],
      [`${SERVER}/v1/scope/check`, { credential: "github", method: "DELETE", url: "https://x.example/a" }],
    );
  });

  test("a trailing slash on the server is dropped", UNIT, async () => {
    const calls: string[] = [];
    const client = new Client({ server: `${SERVER}//`, token: TOKEN, fetch: async (u) => (calls.push(String(u)), json(200, [])) });
    await client.credentials();

    assert.deepEqual(calls, [`${SERVER}/v1/agent/credentials`]);
  });
});

describe("the body limit, computed as the server counts", () => {
  const url = "https://api.example.com/upload";
  // {"method":"POST","url":"…","body":"…"}: the document's bytes without the body, then base64's 4 of 3.
  const overhead = JSON.stringify({ method: "POST", url }).length + ',"body":""'.length;
  const largest = Math.floor(((MAX_REQUEST_BYTES - overhead) * 3) / 4);

  test("the largest body that fits is sent, and one byte more is refused without calling the server", UNIT, async () => {
    const { client, calls } = fake(() => upstream(200, [], ""));
    await client.request("github", { method: "POST", url, body: new Uint8Array(largest) });
    const error = await thrown(() => client.request("github", { method: "POST", url, body: new Uint8Array(largest + 1) }));

    assert.equal(calls.length, 1);
    const refused = instanceOf(error, PayloadTooLarge);
    assert.equal(refused.status, null);
    contains(refused.message, `the request body is ${largest + 1} bytes`);
    assert.ok(largest < MAX_BODY_BYTES, `the largest body that fits (${largest}) is under MAX_BODY_BYTES`);
  });

  test("credentialFetch refuses a body over MAX_BODY_BYTES while reading it", UNIT, async () => {
    const { client, calls } = fake(() => upstream(200, [], ""));
    const error = await thrown(() => credentialFetch("github", { client })(url, { method: "POST", body: new Uint8Array(MAX_BODY_BYTES + 1) }));

    contains(instanceOf(error, PayloadTooLarge).message, `more than ${MAX_BODY_BYTES} bytes`);
    assert.deepEqual(calls, []);
  });

  test("request refuses bodies it cannot send as bytes or JSON, before calling the server", UNIT, async () => {
    const { client, calls } = fake(() => upstream(200, [], ""));
    const blob = await thrown(() => client.request("github", { method: "POST", url, body: new Blob(["x"]) as never }));
    const form = await thrown(() => credentialFetch("github", { client })(url, { method: "POST", body: new FormData() }));

    contains(instanceOf(blob, UnsupportedBody).message, "cannot send a Blob body");
    instanceOf(form, UnsupportedBody);
    instanceOf(form, InvalidRequest);
    assert.deepEqual(calls, []);
  });
});

describe("error answers map to their classes", () => {
  const cases: [string, number, new (...a: never[]) => AileronError, string][] = [
    ["invalid_request", 400, InvalidRequest, "Remove it and retry"],
    ["unauthenticated", 401, Unauthorized, "AILERON_TOKEN"],
    ["invalid_token", 401, Unauthorized, "aileron agent-token create"],
    ["token_expired", 401, Unauthorized, "AILERON_TOKEN"],
    ["agent_token_not_allowed", 403, AgentTokenNotAllowed, "Agent tokens may only"],
    ["destination_not_allowed", 403, DestinationNotAllowed, "public https hosts"],
    ["not_found", 404, NotFound, "credentials()"],
    ["escrow_not_found", 404, NotFound, "credentials()"],
    ["vault_locked", 423, VaultLocked, "aileron vault unlock"],
    ["escrow_lost", 409, EscrowLost, "enclave restarted"],
    ["escrow_expired", 410, EscrowExpired, "expired"],
    ["escrow_used_up", 410, EscrowUsedUp, "max_uses"],
    ["payload_too_large", 413, PayloadTooLarge, "smaller body"],
    ["upstream_error", 502, UpstreamError, "counts as one use"],
    ["upstream_too_large", 502, UpstreamError, "10 MiB"],
    ["upstream_encoding", 502, UpstreamError, "Content-Encoding"],
    ["enclave_unavailable", 503, Unavailable, "retry later"],
    ["database_unavailable", 503, Unavailable, "retry later"],
    ["attestation_unavailable", 503, Unavailable, "retry later"],
    ["tee_disabled", 409, Unavailable, "operator"],
    ["internal", 500, AileronError, "docs/errors.md"],
  ];

  for (const [code, status, Class, advice] of cases) {
    test(`${code} (${status}) is ${Class.name}`, UNIT, async () => {
      const { client } = fake(() => refusal(status, code));
      const error = instanceOf(await thrown(() => get(client)), AileronError);

      assert.equal(error.constructor, Class);
      assert.deepEqual([error.code, error.status, error.requestId, error.detail, error.name], [code, status, "req-42", `the server said ${code}`, Class.name]);
      contains(error.message, `the server said ${code} (HTTP ${status}, ${code}, request id req-42)`);
      contains(error.message, advice);
    });
  }

  test("every escrow refusal is a NotEscrowed", UNIT, async () => {
    for (const [code, status] of [["vault_locked", 423], ["escrow_lost", 409], ["escrow_expired", 410], ["escrow_used_up", 410]] as const) {
      const { client } = fake(() => refusal(status, code));
      instanceOf(await thrown(() => get(client)), NotEscrowed);
    }
  });

  test("rate_limited carries Retry-After in seconds, and says when to retry", UNIT, async () => {
    const { client } = fake(() => refusal(429, "rate_limited", { "retry-after": "7" }));
    const { client: silent } = fake(() => refusal(429, "rate_limited"));
    const error = instanceOf(await thrown(() => get(client)), RateLimited);
    const unsaid = instanceOf(await thrown(() => get(silent)), RateLimited);

    assert.deepEqual([error.retryAfter, unsaid.retryAfter], [7, null]);
    contains(error.message, "Retry after 7 seconds");
    contains(unsaid.message, "Retry later");
  });

  test("a scope violation names the credential's rules when they can be read", UNIT, async () => {
    const { client } = fake((call) =>
      call.url.endsWith("/v1/agent/credentials")
        ? json(200, [{ name: "github", source: "credential", status: "active", allow: [{ methods: ["GET"], url_prefix: "https://api.example.com/" }] }])
        : refusal(403, "scope_violation"),
    );
    const error = instanceOf(await thrown(() => get(client)), ScopeViolation);

    assert.deepEqual(error.rules, [{ methods: ["GET"], urlPrefix: "https://api.example.com/" }]);
    contains(error.message, "The credential allows only: GET https://api.example.com/");
  });

  test("a scope violation stays one when the rules cannot be read", UNIT, async () => {
    const { client } = fake((call) => (call.url.endsWith("/v1/agent/credentials") ? refusal(503, "database_unavailable") : refusal(403, "scope_violation")));
    const error = instanceOf(await thrown(() => get(client)), ScopeViolation);

    assert.deepEqual(error.rules, []);
    contains(error.message, "inside the credential's allow rules");
  });

  const malformed: [string, () => Response, number][] = [
    ["an HTML page from a proxy", () => new Response("<html>bad gateway</html>", { status: 502 }), 502],
    ["JSON without an error", () => json(500, { oops: 1 }), 500],
    ["a 200 whose body is not base64url", () => json(200, { status: 200, headers: [], body: "a+b/" }), 200],
    ["a 200 without a status", () => json(200, { headers: [], body: "" }), 200],
    ["a 200 with malformed headers", () => json(200, { status: 200, headers: [["a"]], body: "" }), 200],
    ["a redirect", () => new Response(null, { status: 302, headers: { location: "https://elsewhere.example/" } }), 302],
  ];
  for (const [what, answer, status] of malformed) {
    test(`${what} is UnexpectedResponse`, UNIT, async () => {
      const { client } = fake(answer);
      const error = instanceOf(await thrown(() => get(client)), UnexpectedResponse);

      assert.deepEqual([error.code, error.status], ["unexpected_response", status]);
    });
  }

  test("an answer over 32 MiB is refused while reading it", UNIT, async () => {
    const chunk = new Uint8Array(1024 * 1024);
    let sent = 0;
    const { client } = fake(
      () =>
        new Response(
          new ReadableStream({
            pull(c) {
              sent += 1;
              c.enqueue(chunk);
            },
          }),
        ),
    );
    const error = await thrown(() => get(client));

    contains(instanceOf(error, UnexpectedResponse).message, "over 33554432 bytes");
    assert.ok(sent < 40, `sent ${sent} MiB before refusing`);
  });
});

describe("connection failures", () => {
  test("a fetch failure is ConnectionFailed with the cause's code, never its text or the token", UNIT, async () => {
    const { client } = fake(() => {
      throw new TypeError(`fetch failed for ${SERVER} with Bearer ${TOKEN}`, { cause: Object.assign(new Error(TOKEN), { code: "ECONNREFUSED" }) });
    });
    const error = instanceOf(await thrown(() => get(client)), ConnectionFailed);

    assert.deepEqual([error.code, error.status, error.cause], ["unreachable", null, undefined]);
    contains(error.message, "(TypeError: ECONNREFUSED)");
    lacks(`${error.message}${error.stack}${inspect(error)}`, TOKEN, "the token");
  });

  test("a server that does not answer in time is ConnectionFailed", UNIT, async () => {
    // A real request in flight holds its socket open; AbortSignal.timeout's timer alone would not
    // keep Node running until it fires, so this fake holds a timer of its own until aborted.
    const { client } = fake(
      (_, signal) =>
        new Promise((_, reject) => {
          const socket = setInterval(() => undefined, 1000);
          signal!.addEventListener("abort", () => (clearInterval(socket), reject(signal!.reason)));
        }),
      { timeoutMs: 50 },
    );
    const error = await thrown(() => get(client));

    contains(instanceOf(error, ConnectionFailed).message, "did not answer in time");
  });

  test("the caller's abort is the caller's AbortError, not an Aileron error", UNIT, async () => {
    const controller = new AbortController();
    let called: () => void = () => undefined;
    const inFlight = new Promise<void>((ok) => (called = ok));
    const { client } = fake((_, signal) => {
      called();
      return new Promise((_, reject) => signal!.addEventListener("abort", () => reject(signal!.reason)));
    });
    const pending = credentialFetch("github", { client })("https://api.example.com/", { signal: controller.signal });
    await inFlight; // aborted while the call to Aileron is under way, not before it starts
    controller.abort();
    const error = await thrown(() => pending);

    assert.ok(!(error instanceof AileronError), `expected the caller's abort, got ${inspect(error)}`);
    assert.equal(instanceOf(error, Error).name, "AbortError");
  });
});

describe("credentialFetch header handling", () => {
  test("drops the headers a runtime adds that the broker refuses, keeps the caller's", UNIT, async () => {
    const { client, calls } = fake(() => upstream(200, [], ""));
    const headers = new Headers([
      ["Accept-Encoding", "gzip"],
      ["Connection", "keep-alive"],
      ["Keep-Alive", "timeout=5"],
      ["TE", "trailers"],
      ["X-Trace", "t1"],
      ["Accept", "application/json"],
    ]);
    await credentialFetch("github", { client })("https://api.example.com/", { headers });

    assert.deepEqual((calls[0]!.body as { headers: unknown }).headers, [
      ["accept", "application/json"],
      ["x-trace", "t1"],
    ]);
  });

  test("the Response drops framing and hop-by-hop headers, states the delivered length, keeps the rest", UNIT, async () => {
    const { client } = fake(() =>
      upstream(
        201,
        [
          ["Content-Length", "9999"],
          ["Transfer-Encoding", "chunked"],
          ["Connection", "close"],
          ["Keep-Alive", "timeout=5"],
          ["Proxy-Authenticate", "Basic"],
          ["Set-Cookie", "a=1"],
          ["Set-Cookie", "b=2"],
          ["Content-Type", "text/plain"],
        ],
        "héllo [REDACTED]",
      ),
    );
    const response = await credentialFetch("github", { client })("https://api.example.com/items", { method: "POST", body: "x" });

    assert.deepEqual([...new Set(response.headers.keys())].sort(), ["content-length", "content-type", "set-cookie"]);
    assert.deepEqual(response.headers.getSetCookie(), ["a=1", "b=2"]);
    assert.equal(response.headers.get("content-length"), String(new TextEncoder().encode("héllo [REDACTED]").length));
    assert.deepEqual([response.status, response.url, await response.text()], [201, "https://api.example.com/items", "héllo [REDACTED]"]);
  });

  test("a 204 or 304 becomes a Response without a body", UNIT, async () => {
    for (const status of [204, 304]) {
      const { client } = fake(() => upstream(status, [["etag", '"v1"']], ""));
      const response = await credentialFetch("github", { client })("https://api.example.com/");
      assert.deepEqual([response.status, response.body, response.headers.get("etag")], [status, null, '"v1"']);
    }
  });

  test("shares a client, or refuses one given with server or token", UNIT, () => {
    const { client } = fake(() => upstream(200, [], ""));

    assert.throws(() => credentialFetch("github", { client, token: TOKEN }), ConfigurationError);
    assert.throws(() => credentialFetch("../x", { client }), InvalidRequest);
  });
});

describe("credentials()", () => {
  test("reads rules, times and a sealed escrow without rules", UNIT, async () => {
    const { client } = fake(() =>
      json(200, [
        { name: "github", source: "credential", kind: "bearer", status: "active", expires_at: 1_900_000_000, max_uses: null, allow: [{ methods: ["GET", "POST"], url_prefix: "https://api.github.com/" }] },
        { name: "deploy", source: "escrow", kind: null, status: "lost", expires_at: null, max_uses: 5, allow: null },
      ]),
    );

    assert.deepEqual(await client.credentials(), [
      { name: "github", source: "credential", kind: "bearer", status: "active", usable: true, expiresAt: new Date(1_900_000_000_000), maxUses: null, allow: [{ methods: ["GET", "POST"], urlPrefix: "https://api.github.com/" }] },
      { name: "deploy", source: "escrow", kind: null, status: "lost", usable: false, expiresAt: null, maxUses: 5, allow: null },
    ]);
  });

  const malformed: [string, unknown][] = [
    ["not a list", {}],
    ["an unknown source", [{ name: "a", source: "vault", status: "active" }]],
    ["a rule without a prefix", [{ name: "a", source: "credential", status: "active", allow: [{ methods: ["GET"] }] }]],
    ["a fractional expiry", [{ name: "a", source: "credential", status: "active", expires_at: 1.5 }]],
  ];
  for (const [what, body] of malformed) {
    test(`${what} is UnexpectedResponse`, UNIT, async () => {
      const { client } = fake(() => json(200, body));

      instanceOf(await thrown(() => client.credentials()), UnexpectedResponse);
    });
  }
});

describe("configuration and the token", () => {
  const misconfigured: [string, { server?: string; token?: string }, string][] = [
    ["no server", { token: TOKEN }, "AILERON_SERVER"],
    ["no token", { server: SERVER }, "AILERON_TOKEN"],
    ["a server that is not http(s)", { server: "ftp://aileron.test", token: TOKEN }, "http(s) base URL"],
    ["a server with a query", { server: `${SERVER}/?a=1`, token: TOKEN }, "http(s) base URL"],
    ["a token a header cannot carry", { server: SERVER, token: `${TOKEN} \n` }, "characters a header cannot carry"],
  ];
  for (const [what, options, says] of misconfigured) {
    test(`${what} is a ConfigurationError`, UNIT, () => {
      const restoreEnv = snapshotEnv();
      delete process.env["AILERON_SERVER"];
      delete process.env["AILERON_TOKEN"];
      try {
        let error: unknown;
        try {
          new Client(options);
        } catch (e) {
          error = e;
        }
        const refused = instanceOf(error, ConfigurationError);
        assert.deepEqual([refused.code, refused.status], ["configuration", null]);
        contains(refused.message, says);
        lacks(refused.message, TOKEN, "the token");
      } finally {
        restoreEnv();
      }
    });
  }

  test("the client prints its server and never its token", UNIT, () => {
    const { client } = fake(() => upstream(200, [], ""));
    const shown = [String(client), JSON.stringify(client), inspect(client, { showHidden: true, depth: 9 }), JSON.stringify({ ...client }), Object.keys(client).join()];

    assert.equal(shown[0], `Client(server=${SERVER})`);
    assert.equal(shown[1], JSON.stringify({ server: SERVER }));
    lacks(shown.join("\n"), TOKEN, "the token");
  });
});

describe("base64url", () => {
  test("round-trips every length and matches Node's encoder", UNIT, () => {
    for (let n = 0; n < 70; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff);
      const encoded = b64u(bytes);
      assert.equal(encoded, Buffer.from(bytes).toString("base64url"));
      assert.deepEqual(fromB64u(encoded), bytes);
    }
  });

  for (const text of ["a+b", "a/bc", "ab==", "abcde", "ab c"]) {
    test(`refuses ${JSON.stringify(text)}`, UNIT, () => {
      assert.throws(() => fromB64u(text), UnexpectedResponse);
    });
  }
});
