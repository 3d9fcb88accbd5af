/**
 * An agent token given one credential cannot reach its owner's other one (tests/stack.ts adds
 * OTHER and creates the token with `--credential github` only), by any way the SDK offers: it is
 * not listed, and requesting with it, fetching with it and checking its scope are all NotFound,
 * with nothing sent upstream. The positive control: the owner can use it, so what refused it
 * above is the token's restriction, not a broken credential.
 */

import assert from "node:assert/strict";
import { test } from "node:test";

import { NotFound, credentialFetch } from "../src/index.js";
import { LIVE, instanceOf, thrown } from "./check.js";
import { api, client, header, received, stack } from "./live.js";
import { CREDENTIAL, OTHER, OTHER_SECRET, cli } from "./stack.js";

test("a token restricted to one credential neither lists nor uses the owner's other one", LIVE, async () => {
  const aileron = client();
  const url = api("/user");

  const [tried, seen, failure] = await received(async () => ({
    listed: (await aileron.credentials()).map((c) => c.name),
    request: await thrown(() => aileron.request(OTHER, { method: "GET", url })),
    fetch: await thrown(() => credentialFetch(OTHER, { client: aileron })(url)),
    checkScope: await thrown(() => aileron.checkScope(OTHER, "GET", url)),
  }));

  assert.equal(failure, undefined);
  assert.deepEqual(tried?.listed, [CREDENTIAL]);
  assert.equal(instanceOf(tried?.request, NotFound).status, 404);
  instanceOf(tried?.fetch, NotFound);
  instanceOf(tried?.checkScope, NotFound);
  assert.deepEqual(seen, [], "nothing reached the upstream");

  const [, owner, refused] = await received(async () => cli(stack, ["request", "GET", url, "--credential", OTHER]));

  assert.equal(refused, undefined);
  assert.deepEqual(owner.map((s) => [s.method, s.path, header(s, "authorization")]), [["GET", "/api/user", `Bearer ${OTHER_SECRET}`]]);
});
