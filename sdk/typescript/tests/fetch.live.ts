/** `credentialFetch` against the real stack: code written for fetch works unchanged. */

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { MAX_BODY_BYTES, NotFound, PayloadTooLarge, ScopeViolation, UnsupportedBody, credentialFetch } from "../src/index.js";
import { LIVE, contains, hasFields, instanceOf, thrown } from "./check.js";
import { api, bodyOf, header, received, stack } from "./live.js";
import { CREDENTIAL, SECRET } from "./stack.js";

const gh = () => credentialFetch(CREDENTIAL, { server: stack.server, token: stack.token });

describe("credentialFetch", () => {
  test("GET returns a standard Response of the redacted answer, framed for the body delivered", LIVE, async () => {
    const [answer, seen] = await received(() => gh()(api("/user?q=a%20b"), { headers: { "x-trace": "t2" } }));

    assert.deepEqual(seen.map((s) => [s.method, s.path]), [["GET", "/api/user?q=a%20b"]]);
    assert.equal(header(seen[0]!, "authorization"), `Bearer ${SECRET}`);
    assert.equal(header(seen[0]!, "x-trace"), "t2");
    const response = instanceOf(answer, Response);
    const body = await response.text();
    assert.deepEqual([response.status, response.ok, response.url], [200, true, api("/user?q=a%20b")]);
    hasFields(JSON.parse(body), { login: "octocat", saw_authorization: "[REDACTED]" });
    assert.equal(response.headers.get("x-echo-authorization"), "[REDACTED]");
    assert.equal(response.headers.get("content-type"), "application/json");
    assert.equal(response.headers.get("content-length"), String(new TextEncoder().encode(body).length));
    assert.equal(response.headers.get("transfer-encoding"), null);
  });

  test("POST with a JSON body sends it with its content type", LIVE, async () => {
    const [response, seen] = await received(() =>
      gh()(api("/items"), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ n: 1 }) }),
    );

    assert.deepEqual(seen.map((s) => [s.method, bodyOf(s), header(s, "content-type")]), [["POST", '{"n":1}', "application/json"]]);
    hasFields(await response!.json(), { body: '{"n":1}' });
  });

  test("takes a Request object, with its method, headers and body", LIVE, async () => {
    const request = new Request(api("/things"), { method: "POST", body: "plain words", headers: { "x-trace": "t3" } });
    const [response, seen] = await received(() => gh()(request));

    assert.deepEqual(
      seen.map((s) => [s.method, s.path, bodyOf(s), header(s, "x-trace"), header(s, "content-type")]),
      [["POST", "/api/things", "plain words", "t3", "text/plain;charset=UTF-8"]],
    );
    assert.equal(response!.status, 200);
  });

  test("sends URLSearchParams and a stream as fetch would", LIVE, async () => {
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode("part one, "));
        c.enqueue(new TextEncoder().encode("part two"));
        c.close();
      },
    });
    const [, seen] = await received(async () => {
      await gh()(api("/form"), { method: "POST", body: new URLSearchParams({ a: "1", b: "x y" }) });
      await gh()(api("/stream"), { method: "POST", body: stream, duplex: "half" } as RequestInit);
    });

    assert.deepEqual(
      seen.map((s) => [bodyOf(s), header(s, "content-type")]),
      [
        ["a=1&b=x+y", "application/x-www-form-urlencoded;charset=UTF-8"],
        ["part one, part two", undefined],
      ],
    );
  });

  test("returns an upstream error status as a Response", LIVE, async () => {
    const response = await gh()(api("/status/503"));

    assert.deepEqual([response.status, response.ok], [503, false]);
    hasFields(await response.json(), { login: "octocat" });
  });

  test("throws Aileron's refusals: ScopeViolation and NotFound", LIVE, async () => {
    const [, seen, error] = await received(() => gh()(`${stack.upstream}/elsewhere`));
    const missing = await thrown(() => credentialFetch("missing", { server: stack.server, token: stack.token })(api("/user")));

    instanceOf(error, ScopeViolation);
    instanceOf(missing, NotFound);
    assert.deepEqual(seen, []);
  });

  test("refuses a streamed body over the limit, saying it buffers, before sending", LIVE, async () => {
    const chunk = new Uint8Array(16 * 1024).fill(97);
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(c) {
        pulled += 1;
        c.enqueue(chunk);
      },
    });
    const [, seen, error] = await received(() => gh()(api("/upload"), { method: "POST", body: endless, duplex: "half" } as RequestInit));

    const refused = instanceOf(error, PayloadTooLarge);
    contains(refused.message, `more than ${MAX_BODY_BYTES} bytes`);
    contains(refused.message, "buffers a body");
    assert.ok(pulled < 10, `pulled ${pulled} chunks of the stream, expected it to stop at the limit`);
    assert.deepEqual(seen, []);
  });

  test("refuses FormData, saying so", LIVE, async () => {
    const form = new FormData();
    form.set("a", "1");
    const [, seen, error] = await received(() => gh()(api("/form"), { method: "POST", body: form }));

    contains(instanceOf(error, UnsupportedBody).message, "does not send FormData");
    assert.deepEqual(seen, []);
  });
});
