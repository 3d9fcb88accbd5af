/**
 * The protocol, once: the JSON the server speaks, how a brokered request is encoded and how its
 * answers are read. Nothing here does I/O.
 */

import {
  type AileronError,
  PayloadTooLarge,
  UnexpectedResponse,
  errorFor,
} from "./errors.js";

// --- The wire format (the server's OpenAPI document, `aileron-server openapi`) ---------------

/** `[name, value]`: headers in order, repeated names kept. */
export type HeaderPair = [name: string, value: string];

/** Where a name lives: a vault credential (`/v1/credentials/…`) or a sealed escrow (`/v1/escrows/…`). */
export type Source = "credential" | "escrow";

/** `POST /v1/credentials/{name}/requests` and `/v1/escrows/{name}/requests` (BrokeredRequestDoc). */
export interface BrokeredRequest {
  method: string;
  url: string;
  headers?: HeaderPair[];
  /** Unpadded base64url. */
  body?: string;
}

/** The upstream's answer with the secret redacted (BrokeredResponseDoc). */
export interface BrokeredResponse {
  status: number;
  headers: HeaderPair[];
  /** Unpadded base64url. */
  body: string;
}

/** An allow rule as `GET /v1/agent/credentials` lists it. */
export interface AllowRuleWire {
  methods: string[];
  url_prefix: string;
}

/** One entry of `GET /v1/agent/credentials` (Usable). */
export interface UsableWire {
  name: string;
  source: string;
  kind?: string | null;
  /** Null for a sealed escrow: its owner sealed the scope and the server keeps no copy. */
  allow?: AllowRuleWire[] | null;
  /** Unix seconds. */
  expires_at?: number | null;
  max_uses?: number | null;
  /** `active`, `not_escrowed`, `lost`, `unavailable`, `expired` or `server`; unknown values pass through. */
  status: string;
}

/** `POST /v1/scope/check` as an agent sends it (ScopeCheck with `credential`). */
export interface ScopeCheckRequest {
  credential: string;
  method: string;
  url: string;
}

/** The answer of `POST /v1/scope/check` (ScopeVerdict). */
export interface ScopeVerdict {
  /** Whether the enclave would make this request with the credential. */
  allowed: boolean;
  /** When allowed: the URL as it would be called (normalised). */
  url?: string;
  /** When not allowed: why. */
  reason?: string;
}

/** Every error answer: `{"error": {"code", "message", "request_id"}}` (ErrorBody). */
export interface ErrorBody {
  error: ErrorDetail;
}

/** The error object (ErrorDetail). */
export interface ErrorDetail {
  code: string;
  message: string;
  request_id?: string | null;
}

/** The codes of docs/errors.md, the vocabulary of `aileron_sdk::wire::ErrorCode`. */
export type ErrorCode =
  | "invalid_request"
  | "not_found"
  | "method_not_allowed"
  | "request_timeout"
  | "payload_too_large"
  | "rate_limited"
  | "internal"
  | "invalid_email"
  | "invalid_password"
  | "invalid_credentials"
  | "email_not_verified"
  | "account_suspended"
  | "invalid_code"
  | "unauthenticated"
  | "token_expired"
  | "invalid_token"
  | "invalid_refresh_token"
  | "refresh_token_reused"
  | "forbidden"
  | "origin_not_allowed"
  | "auth_disabled"
  | "provider_not_configured"
  | "oauth_state_mismatch"
  | "oauth_email_not_verified"
  | "oauth_failed"
  | "last_sign_in_method"
  | "database_unavailable"
  | "agent_token_not_allowed"
  | "already_exists"
  | "quota_exceeded"
  | "vault_not_set"
  | "invalid_verifier"
  | "server_trust_disabled"
  | "vault_locked"
  | "escrow_lost"
  | "tee_disabled"
  | "enclave_unavailable"
  | "invalid_nonce"
  | "attestation_unavailable"
  | "admission_required"
  | "admission_invalid"
  | "sealed_payload_invalid"
  | "secret_size"
  | "invalid_scope"
  | "invalid_secret"
  | "missing_handle"
  | "escrow_not_found"
  | "escrow_expired"
  | "escrow_used_up"
  | "enclave_full"
  | "scope_violation"
  | "destination_not_allowed"
  | "upstream_error"
  | "upstream_too_large"
  | "upstream_encoding";

/** Codes the SDK raises itself, never sent by a server. */
export type ClientErrorCode = "configuration" | "unreachable" | "unexpected_response";

// --- Limits --------------------------------------------------------------------------------

/** The server refuses request bodies (the whole JSON document) larger than this (413). */
export const MAX_REQUEST_BYTES = 64 * 1024;

/**
 * No upstream body larger than this can fit: base64 makes 4 characters of 3 bytes. The real limit
 * is lower by the size of the method, URL and headers; the SDK checks the exact size.
 */
export const MAX_BODY_BYTES = (MAX_REQUEST_BYTES * 3) / 4;

/**
 * Answers are read up to this (the enclave's 10 MiB upstream cap, base64, with room to spare), so
 * a hostile server cannot make a client allocate without bound.
 */
export const MAX_ANSWER_BYTES = 32 * 1024 * 1024;

/**
 * Headers an HTTP library adds by itself that the broker refuses or sets itself: dropped from the
 * requests `credentialFetch` makes, so that code written for `fetch` works unchanged.
 */
export const AUTOMATIC_REQUEST_HEADERS: ReadonlySet<string> = new Set([
  "host",
  "connection",
  "content-length",
  "transfer-encoding",
  "accept-encoding",
  "keep-alive",
  "te",
  "trailer",
  "upgrade",
  "proxy-connection",
]);

/**
 * Framing and hop-by-hop headers of the upstream's answer: they describe the upstream's connection,
 * not the redacted, buffered body. The broker drops them too (docs/enclave.md); the SDK drops them
 * again so that an older enclave cannot make a `Response` lie about its length.
 */
export const FRAMING_RESPONSE_HEADERS: ReadonlySet<string> = new Set([
  "content-length",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "te",
  "trailer",
  "upgrade",
  "proxy-connection",
  "proxy-authenticate",
]);

// --- base64url -----------------------------------------------------------------------------

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const DECODE = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

/** Unpadded base64url, as Aileron's wire uses it (no Buffer: this runs in browsers too). */
export function b64u(data: Uint8Array): string {
  const out: string[] = [];
  let i = 0;
  for (; i + 2 < data.length; i += 3) {
    const n = (data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!;
    out.push(ALPHABET[n >> 18]!, ALPHABET[(n >> 12) & 63]!, ALPHABET[(n >> 6) & 63]!, ALPHABET[n & 63]!);
  }
  const rest = data.length - i;
  if (rest > 0) {
    const n = (data[i]! << 16) | (rest === 2 ? data[i + 1]! << 8 : 0);
    out.push(ALPHABET[n >> 18]!, ALPHABET[(n >> 12) & 63]!);
    if (rest === 2) out.push(ALPHABET[(n >> 6) & 63]!);
  }
  return out.join("");
}

/** The bytes of unpadded base64url; anything else is an unexpected answer. */
export function fromB64u(text: string): Uint8Array {
  if (text.length % 4 === 1) throw unexpected("a body that is not base64url");
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let bits = 0;
  let acc = 0;
  let at = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const value = code < 128 ? DECODE[code]! : -1;
    if (value < 0) throw unexpected("a body that is not base64url");
    acc = (acc << 6) | value;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

// --- Requests ------------------------------------------------------------------------------

const NAME = /^[A-Za-z0-9._-]{1,64}$/;
const UTF8 = new TextEncoder();

/** Checks a credential or escrow name before it goes into a path. */
export function checkName(name: string): string {
  if (typeof name !== "string" || !NAME.test(name) || /^\.+$/.test(name)) {
    throw errorFor(
      "invalid_request",
      `${JSON.stringify(String(name))} is not a credential name (1 to 64 of A-Z a-z 0-9 . _ -, not only dots)`,
      null,
      null,
    );
  }
  return name;
}

/** `/v1/credentials/{name}/requests` or `/v1/escrows/{name}/requests`. */
export function requestPath(name: string, source: Source): string {
  checkName(name);
  if (source !== "credential" && source !== "escrow") {
    throw errorFor(
      "invalid_request",
      `source must be "credential" or "escrow", not ${JSON.stringify(String(source))}`,
      null,
      null,
    );
  }
  return `/v1/${source}s/${name}/requests`;
}

/** The JSON of a brokered request, refused here when the server would refuse its size. */
export function encodeRequest(
  method: string,
  url: string,
  headers: HeaderPair[],
  body: Uint8Array | undefined,
): Uint8Array {
  const document: BrokeredRequest = { method: method.toUpperCase(), url };
  if (headers.length > 0) document.headers = headers;
  if (body !== undefined && body.length > 0) document.body = b64u(body);
  const encoded = UTF8.encode(JSON.stringify(document));
  if (encoded.length > MAX_REQUEST_BYTES) throw bodyTooLarge(body?.length ?? 0, true);
  return encoded;
}

/** The SDK's own refusal of a body that cannot fit in a brokered request (status null). */
export function bodyTooLarge(size: number, exact: boolean): PayloadTooLarge {
  const amount = exact ? `${size} bytes` : `more than ${size} bytes`;
  return new PayloadTooLarge(
    "payload_too_large",
    `the request body is ${amount}: Aileron buffers a body and sends it base64-encoded inside a ` +
      `JSON request that the server caps at ${MAX_REQUEST_BYTES} bytes, so a body may be at most ` +
      `${MAX_BODY_BYTES} bytes less the size of the URL and headers; nothing was sent`,
  );
}

// --- Answers -------------------------------------------------------------------------------

/** What the server answered: its status, Retry-After, and the body read (bounded). */
export interface RawAnswer {
  status: number;
  retryAfter: string | null;
  data: Uint8Array;
}

/** A 200 as the upstream's answer; anything else as the matching error. */
export function readAnswer(answer: RawAnswer): { status: number; headers: HeaderPair[]; body: Uint8Array } {
  if (answer.status !== 200) throw readError(answer);
  const document = jsonObject(answer.data);
  const { status, headers, body } = document;
  if (!(Number.isInteger(status) && (status as number) >= 100 && (status as number) <= 999 && typeof body === "string")) {
    throw unexpected("an answer without a status and a body");
  }
  return { status: status as number, headers: pairs(headers), body: fromB64u(body) };
}

/** The error for an answer `{"error": {"code", "message", "request_id"}}`. */
export function readError(answer: RawAnswer): AileronError {
  let error: unknown;
  try {
    error = jsonObject(answer.data)["error"];
  } catch {
    error = undefined;
  }
  if (!isObject(error) || typeof error["code"] !== "string") {
    return new UnexpectedResponse(
      "unexpected_response",
      `the server answered HTTP ${answer.status} without an Aileron error`,
      null,
      answer.status,
    );
  }
  const message = error["message"];
  const requestId = error["request_id"];
  return errorFor(
    error["code"],
    typeof message === "string" ? message : "",
    typeof requestId === "string" ? requestId : null,
    answer.status,
    seconds(answer.retryAfter),
  );
}

/** The answer of `GET /v1/agent/credentials`, checked. */
export function readCredentials(answer: RawAnswer): UsableWire[] {
  if (answer.status !== 200) throw readError(answer);
  const document = json(answer.data);
  if (!Array.isArray(document)) throw unexpected("a credential list that is not a list");
  return document.map(usable);
}

/** The answer of `POST /v1/scope/check`, checked. */
export function readVerdict(answer: RawAnswer): ScopeVerdict {
  if (answer.status !== 200) throw readError(answer);
  const { allowed, url, reason } = jsonObject(answer.data);
  if (typeof allowed !== "boolean" || !optional(url, "string") || !optional(reason, "string")) {
    throw unexpected("a scope verdict without `allowed`");
  }
  const verdict: ScopeVerdict = { allowed };
  if (typeof url === "string") verdict.url = url;
  if (typeof reason === "string") verdict.reason = reason;
  return verdict;
}

function usable(item: unknown): UsableWire {
  if (!isObject(item)) throw unexpected("a credential that is not an object");
  const { name, source, status, kind, expires_at, max_uses, allow } = item;
  if (typeof name !== "string" || typeof status !== "string" || (source !== "credential" && source !== "escrow")) {
    throw unexpected("a credential without a name, source and status");
  }
  if (!optional(kind, "string") || !optionalInteger(max_uses) || !optionalInteger(expires_at)) {
    throw unexpected("a credential with a malformed kind, max_uses or expires_at");
  }
  return {
    name,
    source,
    status,
    kind: (kind as string | null | undefined) ?? null,
    allow: allow === null || allow === undefined ? null : list(allow).map(rule),
    expires_at: (expires_at as number | null | undefined) ?? null,
    max_uses: (max_uses as number | null | undefined) ?? null,
  };
}

function rule(item: unknown): AllowRuleWire {
  if (!isObject(item)) throw unexpected("an allow rule that is not an object");
  const methods = list(item["methods"]);
  const prefix = item["url_prefix"];
  if (typeof prefix !== "string" || !methods.every((m) => typeof m === "string")) {
    throw unexpected("an allow rule without methods and a url_prefix");
  }
  return { methods: methods as string[], url_prefix: prefix };
}

function pairs(headers: unknown): HeaderPair[] {
  const items = list(headers);
  const ok = items.every(
    (p) => Array.isArray(p) && p.length === 2 && typeof p[0] === "string" && typeof p[1] === "string",
  );
  if (!ok) throw unexpected("headers that are not [name, value] pairs");
  return items.map((p) => [(p as string[])[0]!, (p as string[])[1]!]);
}

function list(value: unknown): unknown[] {
  if (!Array.isArray(value)) throw unexpected("a list where one was expected");
  return value;
}

function optional(value: unknown, type: "string"): boolean {
  return value === null || value === undefined || typeof value === type;
}

function optionalInteger(value: unknown): boolean {
  return value === null || value === undefined || Number.isInteger(value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function jsonObject(data: Uint8Array): Record<string, unknown> {
  const document = json(data);
  if (!isObject(document)) throw unexpected("JSON that is not an object");
  return document;
}

function json(data: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(data));
  } catch {
    throw unexpected("an answer that is not JSON");
  }
}

/** Retry-After in seconds (Aileron sends seconds; an HTTP date is not worth guessing at). */
export function seconds(value: string | null): number | null {
  if (value === null || value.trim() === "") return null;
  const parsed = Number(value);
  return Number.isFinite(parsed) ? Math.max(0, parsed) : null;
}

function unexpected(what: string): UnexpectedResponse {
  return new UnexpectedResponse("unexpected_response", `the server sent ${what}`, null, 200);
}
