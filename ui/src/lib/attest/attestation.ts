/**
 * The enclave's attestation answer, checked as the Rust SDK does (sdk/src/attestation.rs,
 * sdk/src/wire.rs; DESIGN §4): the page sends a fresh nonce, the enclave answers
 * `{token, token_type, boot_id, hpke_public_key, tls_spki_sha256}`, and the token must be valid
 * and hold both the page's nonce and the binding of the boot id and keys the answer presents.
 * Only then is the HPKE key returned, to seal a secret to.
 *
 * A page cannot see the TLS certificate of its connection, so unlike the SDK it cannot check that
 * the connection's key is the bound one: the binding still ties the HPKE key to the attested boot.
 */
import type { Check } from './checks.js';
import type { Claims } from './claims.js';
import { b64u, fromB64u, fromHex } from './encoding.js';
import type { Policy } from './policy.js';
import type { TrustAnchor } from './pki.js';
import { verify } from './verify.js';

/** Domain separator of the binding (`sdk::wire::BINDING_LABEL`). */
export const BINDING_LABEL = 'aileron-enclave-binding-v1';
const ANSWER_FIELDS = ['token', 'token_type', 'boot_id', 'hpke_public_key', 'tls_spki_sha256'] as const;

/** What a verified answer establishes. */
export interface Attested {
  readonly ok: true;
  /** The enclave's X25519 HPKE public key: seal secrets to this. */
  readonly hpkePublicKey: Uint8Array;
  readonly bootId: string;
  readonly tlsSpkiSha256: string;
  readonly binding: string;
  readonly claims: Claims;
  readonly rawClaims: unknown;
  readonly tokenType: 'PKI';
}

/** A refused answer: a failed token check, or `answer` when the answer itself is malformed. */
export interface Refused {
  readonly ok: false;
  readonly check: Check | 'answer';
  readonly detail: string;
}

/**
 * `binding = b64u(SHA-256(label ‖ boot_id(16) ‖ hpke_public_key(32) ‖ SHA-256(TLS SPKI)(32)))`,
 * over raw bytes: 43 characters.
 */
export async function computeBinding(bootId: Uint8Array, hpkePublicKey: Uint8Array, tlsSpkiSha256: Uint8Array): Promise<string> {
  if (bootId.length !== 16 || hpkePublicKey.length !== 32 || tlsSpkiSha256.length !== 32) {
    throw new RangeError('the binding takes a 16-byte boot id and two 32-byte values');
  }
  const label = new TextEncoder().encode(BINDING_LABEL);
  const input = new Uint8Array(label.length + 80);
  input.set(label, 0);
  input.set(bootId, label.length);
  input.set(hpkePublicKey, label.length + 16);
  input.set(tlsSpkiSha256, label.length + 48);
  return b64u(new Uint8Array(await crypto.subtle.digest('SHA-256', input)));
}

/** Whether `nonce` is 10–74 printable ASCII characters (what the enclave accepts). */
export function validNonce(nonce: string): boolean {
  return /^[\x20-\x7e]{10,74}$/.test(nonce);
}

/** A fresh nonce: 24 random bytes, base64url (32 characters), as the SDK makes it. */
export function freshNonce(random: (bytes: Uint8Array) => void = (b) => crypto.getRandomValues(b)): string {
  const bytes = new Uint8Array(24);
  random(bytes);
  return b64u(bytes);
}

/**
 * Checks an enclave's attestation answer: its fields well formed, the token verified against
 * `policy` and `root` at `nowSeconds` with nonces `[myNonce, binding]`. Returns the HPKE public
 * key only when everything passed. Throws a `RangeError` when `myNonce` is not a valid nonce
 * (a bug of the page, not of the enclave).
 */
export async function checkAttestation(
  answer: unknown,
  policy: Policy,
  root: TrustAnchor,
  myNonce: string,
  nowSeconds: number | bigint,
): Promise<Attested | Refused> {
  if (!validNonce(myNonce)) throw new RangeError('the nonce must be 10–74 printable ASCII characters');
  const fields = answerFields(answer);
  if ('ok' in fields) return fields;
  const bootId = fromHex(fields.boot_id, 16);
  if (bootId === null) return malformed('`boot_id` is not 32 lowercase hex characters');
  const hpkePublicKey = fromB64u(fields.hpke_public_key);
  if (hpkePublicKey === null || hpkePublicKey.length !== 32) return malformed('`hpke_public_key` is not 32 bytes of unpadded base64url');
  const tlsSpkiSha256 = fromHex(fields.tls_spki_sha256, 32);
  if (tlsSpkiSha256 === null) return malformed('`tls_spki_sha256` is not 64 lowercase hex characters');
  const binding = await computeBinding(bootId, hpkePublicKey, tlsSpkiSha256);
  const verdict = await verify(fields.token, policy, root, [myNonce, binding], nowSeconds);
  if (!verdict.ok) return verdict;
  return Object.freeze({
    ok: true,
    hpkePublicKey,
    bootId: fields.boot_id,
    tlsSpkiSha256: fields.tls_spki_sha256,
    binding,
    claims: verdict.claims,
    rawClaims: verdict.rawClaims,
    tokenType: verdict.tokenType,
  });
}

type AnswerFields = Record<(typeof ANSWER_FIELDS)[number], string>;

/** Exactly the five fields, each a string (the SDK's `deny_unknown_fields` struct). */
function answerFields(answer: unknown): AnswerFields | Refused {
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) return malformed('the answer is not a JSON object');
  const unknown = Object.keys(answer).find((k) => !(ANSWER_FIELDS as readonly string[]).includes(k));
  if (unknown !== undefined) return malformed(`the answer has an unknown field \`${unknown}\``);
  const out: Partial<AnswerFields> = {};
  for (const name of ANSWER_FIELDS) {
    const value: unknown = Object.getOwnPropertyDescriptor(answer, name)?.value;
    if (typeof value !== 'string') return malformed(`the answer's \`${name}\` is missing or not a string`);
    out[name] = value;
  }
  return out as AnswerFields;
}

function malformed(detail: string): Refused {
  return { ok: false, check: 'answer', detail };
}
