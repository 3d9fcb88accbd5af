/**
 * `credentialFetch`: a `fetch` that sends every request through Aileron with one credential, so
 * code written against `fetch` works unchanged.
 *
 *     const gh = credentialFetch("github");
 *     const me = await (await gh("https://api.github.com/user")).json();
 *
 * Bodies are buffered (refused past what a brokered request can carry, before anything is sent)
 * and the answer arrives whole. An upstream 4xx or 5xx is an ordinary `Response`; Aileron's own
 * refusals throw `AileronError`.
 */

import { Client, type ClientOptions, readAtMost } from "./client.js";
import { ConfigurationError, UnexpectedResponse, UnsupportedBody } from "./errors.js";
import type { AileronResponse } from "./response.js";
import {
  AUTOMATIC_REQUEST_HEADERS,
  FRAMING_RESPONSE_HEADERS,
  type HeaderPair,
  MAX_BODY_BYTES,
  type Source,
  bodyTooLarge,
  checkName,
} from "./wire.js";

/** How `credentialFetch` reaches Aileron: a shared `client`, or options for a client of its own. */
export interface CredentialFetchOptions extends ClientOptions {
  /** A client to share; then `server`, `token`, `fetch` and `timeoutMs` must not be given. */
  client?: Client | undefined;
  /** A vault credential (default) or a sealed escrow. */
  source?: Source | undefined;
}

/** The signature of `fetch`. */
export type CredentialFetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * A function with the signature of `fetch` that has the enclave make each request with the
 * credential `name` injected, and returns the upstream's answer (redacted) as a standard
 * `Response`. Redirects are returned, not followed: each hop would be a new brokered request,
 * inside the rules or refused.
 */
export function credentialFetch(name: string, options: CredentialFetchOptions = {}): CredentialFetch {
  checkName(name);
  const { client: shared, source = "credential", ...own } = options;
  if (shared !== undefined && Object.values(own).some((v) => v !== undefined)) {
    throw new ConfigurationError("configuration", "pass client, or server/token/fetch/timeoutMs, not both");
  }
  const client = shared ?? new Client(own);
  return async (input, init) => {
    const request = toRequest(input, init);
    const body = await buffered(request.body);
    const answer = await client.request(name, {
      method: request.method,
      url: request.url,
      headers: forwarded(request.headers),
      body,
      source,
      signal: request.signal,
    });
    return toResponse(answer, request.url);
  };
}

/** The request exactly as `fetch` would see it (method, URL, headers, body), FormData refused. */
function toRequest(input: string | URL | Request, init: RequestInit | undefined): Request {
  if (typeof FormData !== "undefined" && init?.body instanceof FormData) {
    throw new UnsupportedBody(
      "invalid_request",
      "credentialFetch does not send FormData: its multipart encoding and file parts are not " +
        "buffered through Aileron; encode the body yourself (a string, bytes, a Blob or URLSearchParams)",
    );
  }
  // A stream body needs `duplex: "half"` to make a Request; fetch callers already pass it.
  const stream = typeof ReadableStream !== "undefined" && init?.body instanceof ReadableStream;
  return new Request(input, stream ? ({ ...init, duplex: "half" } as RequestInit) : init);
}

/** The caller's headers less those the runtime or a library adds that the broker refuses or sets. */
export function forwarded(headers: Headers): HeaderPair[] {
  const pairs: HeaderPair[] = [];
  headers.forEach((value, name) => {
    if (!AUTOMATIC_REQUEST_HEADERS.has(name.toLowerCase())) pairs.push([name, value]);
  });
  return pairs;
}

/** A request body read whole, refused as soon as it cannot fit a brokered request. */
async function buffered(body: ReadableStream<Uint8Array> | null): Promise<Uint8Array | undefined> {
  if (body === null) return undefined;
  const bytes = await readAtMost(body, MAX_BODY_BYTES, () => bodyTooLarge(MAX_BODY_BYTES, false));
  return bytes.length === 0 ? undefined : bytes;
}

// Statuses whose Response must have no body (the Response constructor refuses one).
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/**
 * The upstream's answer as a `Response`: its status and headers less the framing of the body as the
 * upstream sent it (redaction changes the length, and it arrives whole), with the Content-Length of
 * the body delivered, and `url` set as fetch sets it.
 */
export function toResponse(answer: AileronResponse, url: string): Response {
  const { status } = answer;
  if (status < 200 || status > 599) {
    throw new UnexpectedResponse(
      "unexpected_response",
      `the upstream answered HTTP ${status}, which a fetch Response cannot carry`,
      null,
      200,
    );
  }
  const headers = new Headers();
  for (const [name, value] of answer.headers) {
    if (FRAMING_RESPONSE_HEADERS.has(name.toLowerCase())) continue;
    try {
      headers.append(name, value);
    } catch {
      throw new UnexpectedResponse("unexpected_response", `the upstream sent a header fetch cannot carry (${JSON.stringify(name)})`, null, 200);
    }
  }
  const empty = NULL_BODY.has(status);
  if (!empty) headers.set("content-length", String(answer.body.length));
  const response = new Response(empty ? null : (answer.body as Uint8Array<ArrayBuffer>), { status, headers });
  Object.defineProperty(response, "url", { value: url, enumerable: true });
  return response;
}
