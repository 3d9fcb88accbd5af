/** Where the server is and the token that opens it, from the options or the environment. */

import { ConfigurationError } from "./errors.js";

/**
 * `process.env` when running in Node (or another runtime that has it), else nothing: the SDK
 * takes no dependency on Node's types, and in a browser the options must say everything.
 */
export function environment(): Readonly<Record<string, string | undefined>> {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return proc?.env ?? {};
}

/**
 * The server's base URL (no trailing slash) and the token: options win over AILERON_SERVER and
 * AILERON_TOKEN, and neither may be missing (empty counts as missing). The token is checked but
 * never echoed.
 */
export function resolve(server: string | undefined, token: string | undefined): { server: string; token: string } {
  const env = environment();
  const base = server || env["AILERON_SERVER"] || undefined;
  const secret = token || env["AILERON_TOKEN"] || undefined;
  if (base === undefined) refuse("no server: pass server or set AILERON_SERVER");
  if (secret === undefined) refuse("no token: pass token or set AILERON_TOKEN (an agent token, ail_agent_…)");
  // A header value: visible ASCII only, so the token can neither split the request nor be mangled.
  if (!/^[\x21-\x7e]+$/.test(secret)) refuse("the token is empty or holds characters a header cannot carry");
  return { server: checkServer(base), token: secret };
}

function checkServer(server: string): string {
  let url: URL | undefined;
  try {
    url = new URL(server);
  } catch {
    url = undefined;
  }
  const bare = url !== undefined && !server.includes("?") && !server.includes("#") && url.username === "" && url.password === "";
  if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:") || !url.host || !bare) {
    refuse(`the server must be an http(s) base URL, such as https://aileron.example.com, not ${JSON.stringify(server)}`);
  }
  return server.replace(/\/+$/, "");
}

function refuse(message: string): never {
  throw new ConfigurationError("configuration", message);
}
