/**
 * What the tests share beyond `node:assert/strict`: a time bound for every test, the checks
 * node:assert lacks (an instance of a class, a part of a text, some fields of an object), the
 * error an action throws, and a way to put the environment back.
 */

import assert from "node:assert/strict";
import { inspect } from "node:util";

/** The bound on a test that needs no stack (node:test's `timeout` option). */
export const UNIT = { timeout: 10_000 } as const;

/** The bound on a test against the real stack: a CLI call or a brokered request takes seconds. */
export const LIVE = { timeout: 60_000 } as const;

/** Asserts that `value` is an instance of `Class`, and returns it as one. */
export function instanceOf<T>(value: unknown, Class: abstract new (...args: never[]) => T): T {
  assert.ok(value instanceof Class, `expected an instance of ${Class.name}, got ${inspect(value, { depth: 1 })}`);
  return value;
}

/** Asserts that `text` holds `part`. */
export function contains(text: string, part: string): void {
  assert.ok(text.includes(part), `expected ${JSON.stringify(part)} in:\n${text.slice(0, 4000)}`);
}

/** Asserts that `text` does not hold `part`, naming it only as `what` (it may be a secret). */
export function lacks(text: string, part: string, what = "the text it must not hold"): void {
  const at = text.indexOf(part);
  assert.ok(at < 0, `found ${what} at offset ${at}`);
}

/** Asserts that `actual` has each of `expected`'s fields, each deeply equal; others may be there. */
export function hasFields(actual: unknown, expected: Record<string, unknown>): void {
  assert.ok(typeof actual === "object" && actual !== null, `expected an object, got ${inspect(actual)}`);
  const fields = actual as Record<string, unknown>;
  assert.deepEqual(Object.fromEntries(Object.keys(expected).map((k) => [k, fields[k]])), expected);
}

/** The error `action` throws (the test fails when it does not throw). */
export async function thrown(action: () => Promise<unknown>): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  assert.fail("expected an error, and none was thrown");
}

/** Snapshots `process.env`; the function returned puts it back as it was, in place. */
export function snapshotEnv(): () => void {
  const saved = { ...process.env };
  return () => {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  };
}
