/**
 * The live tests, in one process around one real stack (tests/stack.ts): node:test has no global
 * setup, so this file's top-level `before` starts the stack before any test of the modules it
 * imports, and its `after` stops it (processes, upstream, database) once they are done, whether
 * they passed or not, and even when the start failed halfway. Tests in one file run one at a
 * time, which the locked-vault tests need.
 */

import { after, before } from "node:test";

import { stack } from "./live.js";
import { Stack } from "./stack.js";

import "./client.live.js";
import "./docs.live.js";
import "./fetch.live.js";
import "./restricted.live.js";
import "./secrets.live.js";

let running: Stack | undefined;
// Should the process end without `after` (a crash, process.exit), no service outlives it.
const lastResort = (): void => running?.killNow();
process.once("exit", lastResort);

before(
  async () => {
    running = new Stack();
    await running.start();
    Object.assign(stack, running.info);
  },
  { timeout: 180_000 },
);

after(
  async () => {
    await running?.stop();
    process.off("exit", lastResort);
  },
  { timeout: 60_000 },
);
