/** `Client` against the real stack: brokered requests, listing, scope checks and every refusal. */

import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";

import {
  AileronError,
  Client,
  ConfigurationError,
  ConnectionFailed,
  InvalidRequest,
  MAX_BODY_BYTES,
  MAX_REQUEST_BYTES,
  NotEscrowed,
  NotFound,
  PayloadTooLarge,
  ScopeViolation,
  Unauthorized,
  VaultLocked,
} from "../src/index.js";
import { LIVE, contains, hasFields, instanceOf, lacks, snapshotEnv, thrown } from "./check.js";
import { api, bodyOf, client, header, received, stack } from "./live.js";
import { CREDENTIAL, SECRET, freePort, lock, unlock } from "./stack.js";

const RULE = () => ({ methods: ["GET", "POST"], urlPrefix: `${stack.upstream}/api/` });

describe("Client.request", () => {
  test("reaches the upstream with the secret injected and the answer comes back redacted", LIVE, async () => {
    const [answer, seen] = await received(() =>
      client().request(CREDENTIAL, { method: "GET", url: api("/user?page=2"), headers: { "x-trace": "t1" } }),
    );

    assert.deepEqual(seen.map((s) => [s.method, s.path]), [["GET", "/api/user?page=2"]]);
    assert.equal(header(seen[0]!, "authorization"), `Bearer ${SECRET}`);
    assert.equal(header(seen[0]!, "x-trace"), "t1");
    assert.equal(answer!.status, 200);
    hasFields(answer!.json(), { login: "octocat", saw_authorization: "[REDACTED]" });
    assert.equal(answer!.header("X-Echo-Authorization"), "[REDACTED]");
    lacks(answer!.text(), SECRET, "the secret");
    lacks(JSON.stringify(answer!.headers), SECRET, "the secret");
  });

  test("sends a JSON body with its content type", LIVE, async () => {
    const [answer, seen] = await received(() =>
      client().request(CREDENTIAL, { method: "post", url: api("/items"), body: { title: "hello" } }),
    );

    assert.deepEqual(
      seen.map((s) => [s.method, bodyOf(s), header(s, "content-type")]),
      [["POST", '{"title":"hello"}', "application/json"]],
    );
    hasFields(answer!.json(), { body: '{"title":"hello"}' });
  });

  test("sends bytes as they are", LIVE, async () => {
    const bytes = new Uint8Array([0, 1, 2, 250, 255]);
    const [, seen] = await received(() => client().request(CREDENTIAL, { method: "POST", url: api("/raw"), body: bytes }));

    assert.deepEqual(new Uint8Array(Buffer.from(seen[0]!.body, "base64")), bytes);
  });

  test("returns an upstream error status rather than throwing", LIVE, async () => {
    const answer = await client().request(CREDENTIAL, { method: "GET", url: api("/status/404") });

    assert.deepEqual([answer.status, answer.ok], [404, false]);
  });

  test("refuses a URL outside the scope with ScopeViolation naming the rules, sending nothing", LIVE, async () => {
    const [, seen, error] = await received(() => client().request(CREDENTIAL, { method: "GET", url: `${stack.upstream}/admin/users` }));

    const violation = instanceOf(error, ScopeViolation);
    assert.deepEqual([violation.code, violation.status], ["scope_violation", 403]);
    assert.deepEqual(violation.rules, [RULE()]);
    contains(violation.message, `allows only: GET,POST ${stack.upstream}/api/`);
    assert.ok(violation.requestId, "the refusal carries a request id");
    contains(violation.message, violation.requestId);
    assert.deepEqual(seen, []);
  });

  test("refuses a method outside the scope with ScopeViolation", LIVE, async () => {
    const error = await thrown(() => client().request(CREDENTIAL, { method: "DELETE", url: api("/user") }));

    instanceOf(error, ScopeViolation);
  });

  test("refuses an unknown credential with NotFound", LIVE, async () => {
    const error = instanceOf(await thrown(() => client().request("no-such-credential", { method: "GET", url: api("/user") })), NotFound);

    assert.deepEqual([error.code, error.status], ["not_found", 404]);
    contains(error.message, "client.credentials()");
  });

  test("refuses an unknown escrow with NotFound", LIVE, async () => {
    const error = await thrown(() => client().request(CREDENTIAL, { method: "GET", url: api("/user"), source: "escrow" }));

    instanceOf(error, NotFound);
  });

  test("refuses a body over the limit before sending anything", LIVE, async () => {
    const body = new Uint8Array(MAX_BODY_BYTES).fill(120);
    const [, seen, error] = await received(() => client().request(CREDENTIAL, { method: "POST", url: api("/upload"), body }));

    const refused = instanceOf(error, PayloadTooLarge);
    assert.deepEqual([refused.code, refused.status], ["payload_too_large", null]);
    contains(refused.message, "buffers a body");
    contains(refused.message, String(MAX_REQUEST_BYTES));
    assert.deepEqual(seen, []);
  });

  test("sends a large body that fits", LIVE, async () => {
    const body = "y".repeat(40_000);
    const [, seen] = await received(() => client().request(CREDENTIAL, { method: "POST", url: api("/upload"), body }));

    assert.equal(bodyOf(seen[0]!), body);
  });

  test("refuses a header callers may not set with InvalidRequest from the broker", LIVE, async () => {
    const error = await thrown(() =>
      client().request(CREDENTIAL, { method: "GET", url: api("/user"), headers: [["X-Forwarded-For", "1.2.3.4"]] }),
    );

    assert.equal(instanceOf(error, InvalidRequest).status, 400);
  });

  test("refuses a malformed name before sending", LIVE, async () => {
    const error = await thrown(() => client().request("../vault", { method: "GET", url: "https://example.com/" }));

    assert.equal(instanceOf(error, InvalidRequest).status, null);
  });
});

describe("a locked vault", () => {
  let locked = false;
  const lockVault = async (): Promise<void> => {
    await lock(stack);
    locked = true;
  };
  afterEach(async () => {
    if (locked) await unlock(stack);
    locked = false;
  }, LIVE);

  test("throws VaultLocked saying the owner must unlock, and lists the credential as not escrowed", LIVE, async () => {
    await lockVault();
    const error = await thrown(() => client().request(CREDENTIAL, { method: "GET", url: api("/user") }));

    instanceOf(error, NotEscrowed);
    const refused = instanceOf(error, VaultLocked);
    assert.deepEqual([refused.code, refused.status], ["vault_locked", 423]);
    contains(refused.message, "owner must unlock");
    contains(refused.message, "aileron vault unlock");
    const github = (await client().credentials()).find((c) => c.name === CREDENTIAL);
    assert.deepEqual([github?.status, github?.usable], ["not_escrowed", false]);
  });

  test("works again once the owner unlocks", LIVE, async () => {
    await lockVault();
    await unlock(stack);
    const answer = await client().request(CREDENTIAL, { method: "GET", url: api("/user") });

    assert.equal(answer.status, 200);
  });
});

describe("Client.credentials", () => {
  test("lists the credential with its rules and state", LIVE, async () => {
    const listed = await client().credentials();

    assert.deepEqual(listed.map((c) => c.name), [CREDENTIAL]);
    const github = listed[0]!;
    assert.deepEqual([github.source, github.kind, github.status, github.usable], ["credential", "bearer", "active", true]);
    assert.deepEqual(github.allow, [RULE()]);
    const expiresAt = instanceOf(github.expiresAt, Date);
    assert.ok(expiresAt.getTime() > Date.now(), `expires at ${expiresAt.toISOString()}, in the past`);
  });
});

describe("Client.checkScope", () => {
  test("allows a request inside the rules, with the URL as it would be called", LIVE, async () => {
    const [verdict, seen] = await received(() => client().checkScope(CREDENTIAL, "get", api("/user")));

    assert.deepEqual(verdict, { allowed: true, url: api("/user") });
    assert.deepEqual(seen, []);
  });

  test("refuses a URL or a method outside the rules, saying why", LIVE, async () => {
    const outside = await client().checkScope(CREDENTIAL, "GET", `${stack.upstream}/admin`);
    const method = await client().checkScope(CREDENTIAL, "DELETE", api("/user"));

    assert.equal(outside.allowed, false);
    assert.ok(outside.reason, "a refusal says why");
    assert.equal(method.allowed, false);
  });

  test("throws NotFound for a credential the token does not name", LIVE, async () => {
    const error = await thrown(() => client().checkScope("other", "GET", api("/user")));

    instanceOf(error, NotFound);
  });
});

describe("configuration and reachability", () => {
  let restoreEnv = snapshotEnv();
  afterEach(() => {
    restoreEnv();
    restoreEnv = snapshotEnv();
  });

  test("the server and token come from the environment", LIVE, async () => {
    process.env["AILERON_SERVER"] = stack.server;
    process.env["AILERON_TOKEN"] = stack.token;

    assert.equal((await new Client().request(CREDENTIAL, { method: "GET", url: api("/user") })).status, 200);
  });

  test("a missing token is a ConfigurationError naming AILERON_TOKEN", LIVE, () => {
    process.env["AILERON_SERVER"] = "http://127.0.0.1:9";
    delete process.env["AILERON_TOKEN"];

    assert.throws(() => new Client(), ConfigurationError);
    assert.throws(() => new Client(), /AILERON_TOKEN/);
  });

  test("a wrong token is Unauthorized, without echoing it", LIVE, async () => {
    const wrong = `ail_agent_${"A".repeat(43)}`;
    const error = await thrown(() =>
      new Client({ server: stack.server, token: wrong }).request(CREDENTIAL, { method: "GET", url: api("/user") }),
    );

    const refused = instanceOf(error, Unauthorized);
    assert.equal(refused.status, 401);
    contains(refused.message, "AILERON_TOKEN");
    lacks(refused.message, wrong, "the wrong token");
  });

  test("an unreachable server is ConnectionFailed, without the token or a cause", LIVE, async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const error = await thrown(() =>
      new Client({ server: closed, token: stack.token }).request(CREDENTIAL, { method: "GET", url: api("/user") }),
    );

    instanceOf(error, AileronError);
    const failed = instanceOf(error, ConnectionFailed);
    assert.deepEqual([failed.code, failed.status], ["unreachable", null]);
    contains(failed.message, "ECONNREFUSED");
    assert.equal(failed.cause, undefined);
    lacks(failed.message, stack.token, "the agent token");
  });
});
