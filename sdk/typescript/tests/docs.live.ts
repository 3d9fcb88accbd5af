/**
 * docs/agents.md's TypeScript example, run as written against the real stack: only the upstream's
 * address changes (https://api.github.com/repos/acme/ becomes the recording server's /api/), and
 * the package name resolves to this build. The environment holds AILERON_SERVER and AILERON_TOKEN
 * as the guide says.
 */

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";

import { LIVE } from "./check.js";
import { header, received, stack } from "./live.js";
import { SECRET } from "./stack.js";

const run = promisify(execFile);

test("the guide's TypeScript example lists the credentials and fetches with one", LIVE, async () => {
  const guide = readFileSync(path.resolve(process.cwd(), "../../docs/agents.md"), "utf8");
  const blocks = [...guide.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] ?? "");
  assert.equal(blocks.length, 1, "one TypeScript example");
  const built = pathToFileURL(path.resolve(process.cwd(), ".test-build/src/index.js")).href;
  const example = path.resolve(process.cwd(), ".test-build/guide-example.mjs");
  writeFileSync(
    example,
    (blocks[0] ?? "")
      .replace("'@aileron/client'", JSON.stringify(built))
      .replaceAll("https://api.github.com/repos/acme/", `${stack.upstream}/api/`),
  );

  const [done, seen, failure] = await received(() =>
    run(process.execPath, [example], {
      env: { PATH: process.env.PATH ?? "", AILERON_SERVER: stack.server, AILERON_TOKEN: stack.token },
      timeout: 30_000,
    }),
  );

  assert.equal(failure, undefined, String(failure));
  const printed = done?.stdout ?? "";
  assert.match(printed, /name: 'github'/);
  assert.match(printed, /^200 \{/m);
  assert.ok(!printed.includes(SECRET));
  assert.deepEqual(
    seen.map((s) => [s.method, s.path, header(s, "authorization")]),
    [["GET", "/api/widgets", `Bearer ${SECRET}`]],
  );
});
