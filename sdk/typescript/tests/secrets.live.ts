/**
 * Neither the credential's secret, the vault passphrase nor the agent token shows in anything the
 * SDK hands back: answers, headers, errors (message, stack, JSON, inspect) and the client itself.
 * Each check has a positive control: the text searched holds what the requests made, and the
 * upstream did get the secret.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { inspect } from "node:util";

import { AileronError, Client, credentialFetch } from "../src/index.js";
import { LIVE, contains, instanceOf, lacks, thrown } from "./check.js";
import { api, client, header, received, stack } from "./live.js";
import { CREDENTIAL, PASSPHRASE, SECRET, freePort } from "./stack.js";

async function refusal(action: () => Promise<unknown>): Promise<string> {
  const e = instanceOf(await thrown(action), AileronError);
  return [e.message, String(e), e.stack ?? "", JSON.stringify(e), inspect(e, { depth: 5, showHidden: true })].join("\n");
}

test("no secret, passphrase or token in answers, errors, or the client", LIVE, async () => {
  const aileron = client();
  const gh = credentialFetch(CREDENTIAL, { client: aileron });
  const url = api("/user");
  const texts: string[] = [];

  const [, seen] = await received(async () => {
    const answer = await aileron.request(CREDENTIAL, { method: "GET", url });
    texts.push(answer.text(), JSON.stringify(answer.headers), String(answer), inspect(answer));
    const response = await gh(url);
    texts.push(await response.text(), JSON.stringify([...response.headers]), inspect(response.headers));
  });

  texts.push(await refusal(() => aileron.request(CREDENTIAL, { method: "GET", url: `${stack.upstream}/outside` })));
  texts.push(await refusal(() => aileron.request("absent", { method: "GET", url })));
  texts.push(await refusal(() => aileron.request(CREDENTIAL, { method: "POST", url, body: "b".repeat(70_000) })));
  texts.push(await refusal(() => new Client({ server: stack.server, token: `${stack.token}x` }).request(CREDENTIAL, { method: "GET", url })));
  const closed = new Client({ server: `http://127.0.0.1:${await freePort()}`, token: stack.token });
  texts.push(await refusal(() => closed.request(CREDENTIAL, { method: "GET", url })));
  texts.push(await refusal(() => credentialFetch("absent", { client: aileron })(url)));
  texts.push(String(aileron), JSON.stringify(aileron), inspect(aileron, { showHidden: true, depth: 10 }), `${aileron}`);
  texts.push(JSON.stringify({ ...aileron }), Object.keys(aileron).join(","), inspect(closed), JSON.stringify(closed));

  const everything = texts.join("\n");
  assert.equal(seen.length, 2);
  assert.deepEqual(seen.map((s) => header(s, "authorization")), [`Bearer ${SECRET}`, `Bearer ${SECRET}`]);
  const redactions = everything.split("[REDACTED]").length - 1;
  assert.ok(redactions >= 4, `${redactions} redactions, expected at least 4`);
  for (const code of ["scope_violation", "not_found", "payload_too_large", "invalid_token", "unreachable"]) {
    contains(everything, code);
  }
  contains(everything, stack.server);
  lacks(everything, SECRET, "the credential's secret");
  lacks(everything, PASSPHRASE, "the vault passphrase");
  lacks(everything, stack.token, "the agent token");
  lacks(everything, stack.token.slice("ail_agent_".length, "ail_agent_".length + 16), "a part of the agent token");
});
