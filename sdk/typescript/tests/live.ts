/**
 * What the live tests share: the stack's addresses, filled in by the `before` hook of
 * tests/live.test.ts before any test runs, a client of it, and what the upstream received.
 */

import { Client } from "../src/index.js";
import { type Seen, type StackInfo, seen } from "./stack.js";

export const stack: StackInfo = { server: "", token: "", upstream: "", work: "", bin: "" };

export const client = (): Client => new Client({ server: stack.server, token: stack.token });

export const api = (path: string): string => `${stack.upstream}/api${path}`;

/** What the upstream receives while `action` runs, with what `action` returned or threw. */
export async function received<T>(action: () => Promise<T>): Promise<[T | undefined, Seen[], unknown]> {
  const before = (await seen(stack)).length;
  let result: T | undefined;
  let failure: unknown;
  try {
    result = await action();
  } catch (error) {
    failure = error;
  }
  return [result, (await seen(stack)).slice(before), failure];
}

export function header(s: Seen, name: string): string | undefined {
  return s.headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];
}

export const bodyOf = (s: Seen): string => Buffer.from(s.body, "base64").toString();
