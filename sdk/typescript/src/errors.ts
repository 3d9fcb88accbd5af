/**
 * Aileron's refusals as errors, one class per thing a developer can act on.
 *
 * Every error is an `AileronError` carrying the server's stable `code` (docs/errors.md), the
 * `requestId` to quote when reporting a failure, and the HTTP `status` (null when the SDK refused
 * before anything was sent, or no answer came). `message` is for people: the server's text (kept
 * alone in `detail`), the status, code and request id, and what to do. Match on the class or on
 * `code`, never on `message`. Neither the token nor the credential's secret is ever part of one.
 */

/** An allow rule of a credential: these methods, on URLs under this prefix. */
export interface AllowRule {
  readonly methods: readonly string[];
  readonly urlPrefix: string;
}

/** `GET,POST https://api.example.com/` */
export function formatRule(rule: AllowRule): string {
  return `${rule.methods.join(",")} ${rule.urlPrefix}`;
}

/** Aileron refused a request, or could not be reached. */
export class AileronError extends Error {
  /** What a developer should do about this kind of error. */
  static readonly advice: string = "See docs/errors.md for this code";

  /** The stable code: match on it (or on the class), never on `message`. */
  readonly code: string;
  /** The server's own message (or the SDK's), without the advice. */
  readonly detail: string;
  /** The server's request id, to quote when reporting a failure. */
  readonly requestId: string | null;
  /** The HTTP status, or null when nothing was sent or no answer came. */
  readonly status: number | null;

  constructor(code: string, detail: string, requestId: string | null = null, status: number | null = null) {
    super(detail);
    this.name = new.target.name;
    this.code = code;
    this.detail = detail;
    this.requestId = requestId;
    this.status = status;
    this.message = this.describe();
  }

  /** The message: what happened, where, and what to do. */
  protected describe(): string {
    const advice = this.advice();
    const where = this.status !== null ? `HTTP ${this.status}, ` : "";
    const rid = this.requestId ? `, request id ${this.requestId}` : "";
    const text = `${this.detail} (${where}${this.code}${rid})`;
    return advice ? `${text}. ${advice}` : text;
  }

  /** What to do, for this class of error. */
  protected advice(): string {
    return (this.constructor as typeof AileronError).advice;
  }
}

/** 400 `invalid_request`: a malformed brokered request (or a bad name, refused by the SDK). */
export class InvalidRequest extends AileronError {
  static override readonly advice: string =
    "Aileron refused the request as malformed: often a header callers may not set (Host, " +
    "Content-Length, Accept-Encoding, Range, X-Forwarded-*, or the header the credential injects, " +
    "such as Authorization). Remove it and retry";
}

/** 401 `unauthenticated`, `invalid_token`, `token_expired`: the token is not accepted. */
export class Unauthorized extends AileronError {
  static override readonly advice: string =
    "The agent token is missing, invalid, expired or revoked: set AILERON_TOKEN (or pass token) " +
    "to a current one; its owner makes one with `aileron agent-token create`";
}

/** 403 `agent_token_not_allowed`: this route is for signed-in users only. */
export class AgentTokenNotAllowed extends AileronError {
  static override readonly advice: string =
    "Agent tokens may only make brokered requests, check a scope and list their credentials";
}

const WIDEN = "or ask its owner to widen them";

/**
 * 403 `scope_violation`: the method or URL is outside the credential's allow rules. Nothing was
 * sent upstream and no use was counted.
 */
export class ScopeViolation extends AileronError {
  /** The credential's allow rules, when the SDK could read them (else empty). */
  readonly rules: readonly AllowRule[];

  constructor(
    code: string,
    detail: string,
    requestId: string | null = null,
    status: number | null = null,
    rules: readonly AllowRule[] = [],
  ) {
    super(code, detail, requestId, status);
    this.rules = rules;
    this.message = this.describe();
  }

  protected override advice(): string {
    // Called once by the base constructor before `rules` is set.
    const rules = this.rules ?? [];
    if (rules.length === 0) return `Use a method and URL inside the credential's allow rules, ${WIDEN}`;
    const allowed = rules.map(formatRule).join("; ");
    return `The credential allows only: ${allowed}. Use a method and URL inside these, ${WIDEN}`;
  }
}

/** 403 `destination_not_allowed`: the host resolves to an address that is not public. */
export class DestinationNotAllowed extends AileronError {
  static override readonly advice: string =
    "Brokered requests reach public https hosts only; this host resolves to a private address";
}

/** 404 `not_found`, `escrow_not_found`: no such credential or escrow for this token. */
export class NotFound extends AileronError {
  static override readonly advice: string =
    "No credential or escrow of that name is available to this token: check the name and source " +
    '("credential" or "escrow"); client.credentials() lists what the token may use, and a token ' +
    "created with --credential sees only those names";
}

/**
 * The credential has no live escrow in the enclave, so nothing can inject its secret. Only its
 * owner can fix this; the subclasses say how.
 */
export class NotEscrowed extends AileronError {
  static override readonly advice: string = "The credential cannot be used until its owner escrows it again";
}

/** 423 `vault_locked`: the owner's vault is locked (or was never unlocked). */
export class VaultLocked extends NotEscrowed {
  static override readonly advice: string =
    "The credential's owner must unlock the vault (`aileron vault unlock`); the agent cannot do " +
    "this itself. Retrying will not help until then";
}

/** 409 `escrow_lost`: the enclave restarted and lost the escrow. */
export class EscrowLost extends NotEscrowed {
  static override readonly advice: string =
    "The enclave restarted and lost the secret: its owner must unlock the vault again (`aileron " +
    "vault unlock`), or escrow it again for a sealed escrow (`aileron escrow put`)";
}

/** 410 `escrow_expired`: the escrow outlived its expiry. */
export class EscrowExpired extends NotEscrowed {
  static override readonly advice: string =
    "The escrow has expired: its owner must unlock the vault again or escrow it anew";
}

/** 410 `escrow_used_up`: the escrow's `max_uses` are spent. */
export class EscrowUsedUp extends NotEscrowed {
  static override readonly advice: string = "The escrow's uses (max_uses) are spent: its owner must escrow it again";
}

/**
 * 413 `payload_too_large`: the request body is over the limit. Thrown by the SDK itself (status
 * null) before anything is sent when it can tell.
 */
export class PayloadTooLarge extends AileronError {
  static override readonly advice: string = "Send a smaller body, or make this request without Aileron";
}

/** 429 `rate_limited`: too many requests; `retryAfter` says for how long (seconds). */
export class RateLimited extends AileronError {
  /** Seconds to wait, from `Retry-After`, or null when the server did not say. */
  readonly retryAfter: number | null;

  constructor(
    code: string,
    detail: string,
    requestId: string | null = null,
    status: number | null = null,
    retryAfter: number | null = null,
  ) {
    super(code, detail, requestId, status);
    this.retryAfter = retryAfter;
    this.message = this.describe();
  }

  protected override advice(): string {
    const after = this.retryAfter ?? null;
    return after === null ? "Retry later" : `Retry after ${after} seconds`;
  }
}

/**
 * 502 `upstream_error`, `upstream_too_large`, `upstream_encoding`: the upstream could not be
 * reached, failed, answered more than the enclave takes (10 MiB), or compressed its answer.
 */
export class UpstreamError extends AileronError {
  static override readonly advice: string =
    "The upstream failed, timed out, answered over 10 MiB or with a Content-Encoding: the request " +
    "may have reached it, and it counts as one use";
}

/**
 * 503 `enclave_unavailable`, `database_unavailable`, `attestation_unavailable`, or 409
 * `tee_disabled`: the service cannot broker right now.
 */
export class Unavailable extends AileronError {
  static override readonly advice: string = "Aileron cannot broker requests right now: retry later, or tell its operator";
}

/**
 * The Aileron server could not be reached, or did not answer in time (code `unreachable`, status
 * null). The URL is left out, and the `fetch` error is not kept as `cause`: its request may hold
 * the token.
 */
export class ConnectionFailed extends AileronError {
  static override readonly advice: string = "Check AILERON_SERVER and that the server is running, then retry";
}

/**
 * The server's answer was not Aileron's JSON (code `unexpected_response`): a proxy in the way, or
 * a server of another version.
 */
export class UnexpectedResponse extends AileronError {
  static override readonly advice: string =
    "Check that AILERON_SERVER points at an Aileron server, not a proxy or another site";
}

/**
 * The client is missing its server or token, one of them is malformed, or it was given something it
 * cannot send (code `configuration`, status null).
 */
export class ConfigurationError extends AileronError {
  static override readonly advice: string = "Pass server and token, or set AILERON_SERVER and AILERON_TOKEN";
}

/** A body `credentialFetch` or `request` cannot send (FormData, for one): code `invalid_request`. */
export class UnsupportedBody extends InvalidRequest {
  static override readonly advice: string =
    "Send the body as a string, bytes, a Blob, URLSearchParams or a stream instead";
}

type ErrorClass = new (code: string, detail: string, requestId: string | null, status: number | null) => AileronError;

const BY_CODE: Readonly<Record<string, ErrorClass>> = {
  invalid_request: InvalidRequest,
  unauthenticated: Unauthorized,
  invalid_token: Unauthorized,
  token_expired: Unauthorized,
  agent_token_not_allowed: AgentTokenNotAllowed,
  scope_violation: ScopeViolation,
  destination_not_allowed: DestinationNotAllowed,
  not_found: NotFound,
  escrow_not_found: NotFound,
  vault_locked: VaultLocked,
  escrow_lost: EscrowLost,
  escrow_expired: EscrowExpired,
  escrow_used_up: EscrowUsedUp,
  payload_too_large: PayloadTooLarge,
  upstream_error: UpstreamError,
  upstream_too_large: UpstreamError,
  upstream_encoding: UpstreamError,
  enclave_unavailable: Unavailable,
  database_unavailable: Unavailable,
  attestation_unavailable: Unavailable,
  tee_disabled: Unavailable,
};

/** The error for a server's code (the base class for codes without one of their own). */
export function errorFor(
  code: string,
  detail: string,
  requestId: string | null,
  status: number | null,
  retryAfter: number | null = null,
): AileronError {
  if (code === "rate_limited") return new RateLimited(code, detail, requestId, status, retryAfter);
  const Class = Object.hasOwn(BY_CODE, code) ? BY_CODE[code]! : AileronError;
  return new Class(code, detail, requestId, status);
}
