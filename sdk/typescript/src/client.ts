/** `Client`: brokered requests, the credentials a token may use, and scope checks. */

import { resolve } from "./config.js";
import {
  type AileronError,
  type AllowRule,
  ConnectionFailed,
  ScopeViolation,
  UnexpectedResponse,
  UnsupportedBody,
} from "./errors.js";
import { AileronResponse } from "./response.js";
import {
  type HeaderPair,
  type RawAnswer,
  type ScopeCheckRequest,
  type ScopeVerdict,
  type Source,
  type UsableWire,
  MAX_ANSWER_BYTES,
  checkName,
  encodeRequest,
  readAnswer,
  readCredentials,
  readVerdict,
  requestPath,
} from "./wire.js";

export const VERSION = "0.1.0";

/**
 * Milliseconds for a whole call to Aileron: the enclave gives the upstream 30 s, and the server 30 s
 * for the whole answer, so this only trips when something between is stuck.
 */
export const DEFAULT_TIMEOUT_MS = 60_000;

/** The `fetch` the client calls the server with: the global one unless a test or a runtime gives its own. */
export type FetchFunction = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** How to reach Aileron. */
export interface ClientOptions {
  /** The server's base URL; default `AILERON_SERVER`. */
  server?: string | undefined;
  /** The agent token (`ail_agent_…`); default `AILERON_TOKEN`. Never printed by the SDK. */
  token?: string | undefined;
  /** The `fetch` to call the server with; default the global `fetch`. */
  fetch?: FetchFunction | undefined;
  /** Milliseconds for each call to Aileron; default 60 000. */
  timeoutMs?: number | undefined;
}

/** Headers as a record, as `[name, value]` pairs (to repeat a name), or a `Headers`. */
export type HeadersArg = Record<string, string> | Iterable<readonly [string, string]>;

/** A JSON value, sent as `application/json`. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** What `Client.request` sends. */
export interface RequestOptions {
  /** `GET`, `POST`, …: upper-cased before sending. */
  method: string;
  /** The upstream's absolute URL: it must be inside the credential's allow rules. */
  url: string | URL;
  headers?: HeadersArg | undefined;
  /**
   * A string (UTF-8), bytes, or any other JSON value (sent as JSON with `content-type:
   * application/json` unless the headers name one). At most ~48 KiB: see MAX_BODY_BYTES.
   */
  body?: string | Uint8Array | ArrayBuffer | JsonValue | undefined;
  /** A vault credential (default) or a sealed escrow. */
  source?: Source | undefined;
  /** Aborts the call to Aileron (the upstream may have been reached already). */
  signal?: AbortSignal | undefined;
}

/** A credential or escrow this token may use, as `GET /v1/agent/credentials` lists it. */
export interface Credential {
  readonly name: string;
  readonly source: Source;
  /** `bearer`, `header` or `basic`; null for a sealed escrow. */
  readonly kind: string | null;
  /** Its allow rules; null for a sealed escrow, whose scope the server does not keep. */
  readonly allow: readonly AllowRule[] | null;
  /** `active`, `not_escrowed` (the vault is locked), `lost`, `unavailable`, `expired` or `server`; unknown values pass through. */
  readonly status: string;
  readonly expiresAt: Date | null;
  readonly maxUses: number | null;
  /** Whether requests with it can succeed now (`active`, or `server` in server-trust mode). */
  readonly usable: boolean;
}

/**
 * A client of an Aileron server, holding an agent token.
 *
 * The token lives in a private field: it is not in `toString()`, `JSON.stringify`, `util.inspect`
 * or any error.
 */
export class Client {
  readonly #server: string;
  readonly #token: string;
  readonly #fetch: FetchFunction;
  readonly #timeoutMs: number;

  constructor(options: ClientOptions = {}) {
    const { server, token } = resolve(options.server, options.token);
    this.#server = server;
    this.#token = token;
    // Bound, so that a browser's fetch is not called with the client as `this`.
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** The Aileron server's base URL. */
  get server(): string {
    return this.#server;
  }

  /** The credentials and escrows this token may use, with their allow rules and status. */
  async credentials(options: { signal?: AbortSignal } = {}): Promise<Credential[]> {
    const answer = await this.#call("GET", "/v1/agent/credentials", undefined, options.signal);
    return readCredentials(answer).map(credential);
  }

  /**
   * Has the enclave make `method url` with the credential `name` injected, and returns the
   * upstream's answer with the secret redacted (an upstream 4xx or 5xx is returned, not thrown).
   * Aileron's own refusals throw `AileronError`.
   */
  async request(name: string, options: RequestOptions): Promise<AileronResponse> {
    const source = options.source ?? "credential";
    const path = requestPath(name, source);
    const [headers, body] = prepareBody(headerPairs(options.headers), options.body);
    const payload = encodeRequest(options.method, String(options.url), headers, body);
    try {
      const answer = readAnswer(await this.#call("POST", path, payload, options.signal));
      return new AileronResponse(answer.status, answer.headers, answer.body);
    } catch (error) {
      if (error instanceof ScopeViolation) throw await this.#explained(error, name, source);
      throw error;
    }
  }

  /**
   * Whether the enclave would make `method url` with the vault credential `name`, without making
   * it: the broker's own scope code answers (`POST /v1/scope/check`). Sealed escrows cannot be
   * checked: their scope is not on the server.
   */
  async checkScope(name: string, method: string, url: string | URL, options: { signal?: AbortSignal } = {}): Promise<ScopeVerdict> {
    const document: ScopeCheckRequest = { credential: checkName(name), method: method.toUpperCase(), url: String(url) };
    const payload = new TextEncoder().encode(JSON.stringify(document));
    return readVerdict(await this.#call("POST", "/v1/scope/check", payload, options.signal));
  }

  toString(): string {
    return `Client(server=${this.#server})`;
  }

  toJSON(): { server: string } {
    return { server: this.#server };
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }

  async #explained(error: ScopeViolation, name: string, source: Source): Promise<ScopeViolation> {
    try {
      const listed = await this.credentials();
      const rules = listed.find((c) => c.name === name && c.source === source)?.allow ?? [];
      return new ScopeViolation(error.code, error.detail, error.requestId, error.status, rules);
    } catch {
      return error;
    }
  }

  async #call(method: string, path: string, payload: Uint8Array | undefined, signal: AbortSignal | undefined): Promise<RawAnswer> {
    signal?.throwIfAborted();
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const both = signal === undefined ? timeout : anySignal([signal, timeout]);
    let failure: AileronError;
    try {
      const answer = await this.#fetch(this.#server + path, {
        method,
        headers: this.#headers(payload !== undefined),
        body: (payload as Uint8Array<ArrayBuffer> | undefined) ?? null,
        signal: both,
        // Aileron never redirects: a redirect is a proxy's or another site's, answered as unexpected,
        // and the token is never carried to wherever it points.
        redirect: "manual",
      });
      return { status: answer.status, retryAfter: answer.headers.get("retry-after"), data: await readBounded(answer) };
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (error instanceof UnexpectedResponse) throw error;
      failure = unreachable(error, timeout.aborted);
    }
    // Thrown outside the handler, with no `cause`: the fetch error's request may hold the token.
    throw failure;
  }

  #headers(json: boolean): Record<string, string> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.#token}`,
      accept: "application/json",
      "user-agent": `aileron-typescript/${VERSION}`,
    };
    if (json) headers["content-type"] = "application/json";
    return headers;
  }
}

function credential(item: UsableWire): Credential {
  return {
    name: item.name,
    source: item.source as Source,
    kind: item.kind ?? null,
    allow: item.allow?.map((r) => ({ methods: r.methods, urlPrefix: r.url_prefix })) ?? null,
    status: item.status,
    expiresAt: item.expires_at == null ? null : new Date(item.expires_at * 1000),
    maxUses: item.max_uses ?? null,
    usable: item.status === "active" || item.status === "server",
  };
}

/** Headers given as a record, pairs or a `Headers`, as pairs of strings. */
export function headerPairs(headers: HeadersArg | undefined): HeaderPair[] {
  if (headers === undefined) return [];
  const items: Iterable<readonly [string, string]> =
    Symbol.iterator in headers ? (headers as Iterable<readonly [string, string]>) : Object.entries(headers);
  return Array.from(items, ([name, value]) => [String(name), String(value)] as HeaderPair);
}

function prepareBody(headers: HeaderPair[], body: RequestOptions["body"]): [HeaderPair[], Uint8Array | undefined] {
  if (body === undefined) return [headers, undefined];
  if (typeof body === "string") return [headers, new TextEncoder().encode(body)];
  if (body instanceof Uint8Array) return [headers, body];
  if (body instanceof ArrayBuffer) return [headers, new Uint8Array(body)];
  if (body !== null && typeof body === "object" && !Array.isArray(body) && !isPlain(body)) {
    const kind = (body as object).constructor?.name ?? "object";
    throw new UnsupportedBody(
      "invalid_request",
      `Client.request cannot send a ${kind} body: pass a string, a Uint8Array or a plain JSON value ` +
        "(credentialFetch also buffers a Blob, URLSearchParams or a stream; FormData is not supported)",
    );
  }
  const typed = headers.some(([name]) => name.toLowerCase() === "content-type");
  const withType: HeaderPair[] = typed ? headers : [...headers, ["content-type", "application/json"]];
  return [withType, new TextEncoder().encode(JSON.stringify(body))];
}

function isPlain(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** The server's answer, read whole but never past MAX_ANSWER_BYTES. */
async function readBounded(answer: Response): Promise<Uint8Array> {
  if (answer.body === null) return new Uint8Array(0);
  return readAtMost(answer.body, MAX_ANSWER_BYTES, () =>
    new UnexpectedResponse(
      "unexpected_response",
      `the server's answer is over ${MAX_ANSWER_BYTES} bytes`,
      null,
      answer.status,
    ),
  );
}

/**
 * A stream read whole into one array; as soon as it passes `limit` bytes the stream is cancelled
 * and `tooLarge()` is thrown, so an endless body never fills memory.
 */
export async function readAtMost(
  stream: ReadableStream<Uint8Array>,
  limit: number,
  tooLarge: () => Error,
): Promise<Uint8Array> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return concat(chunks, size);
}

/** Chunks as one array. */
function concat(chunks: readonly Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** An AbortSignal that aborts when any of `signals` does (AbortSignal.any where it exists). */
function anySignal(signals: AbortSignal[]): AbortSignal {
  const native = (AbortSignal as { any?: (s: AbortSignal[]) => AbortSignal }).any;
  if (native) return native.call(AbortSignal, signals);
  const controller = new AbortController();
  for (const s of signals) {
    if (s.aborted) return AbortSignal.abort(s.reason);
    s.addEventListener("abort", () => controller.abort(s.reason), { once: true });
  }
  return controller.signal;
}

function unreachable(error: unknown, timedOut: boolean): ConnectionFailed {
  if (timedOut) return new ConnectionFailed("unreachable", "the Aileron server did not answer in time");
  // Only the error's class and its cause's code (ECONNREFUSED, …): never its text, which a
  // runtime may write with the URL or headers in it.
  const kind = error instanceof Error ? error.name : typeof error;
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  const code = typeof cause?.code === "string" && /^[A-Z0-9_]{1,40}$/.test(cause.code) ? `: ${cause.code}` : "";
  return new ConnectionFailed("unreachable", `could not reach the Aileron server (${kind}${code})`);
}
