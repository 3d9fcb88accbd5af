/**
 * The verifier: every check of the Rust verifier (attest/src/verify.rs), in its order; the first
 * failure is the verdict. Only a pinned root is supported (no JWKS): a `kid` token fails `key`.
 */
import { CheckFailed, fail, type Failure } from './checks.js';
import { type Claims, supportAttributes, typeClaims } from './claims.js';
import { type JsonObject, toPlain } from './json.js';
import { decodeClaims, decodeHeader, decodeSignature, split } from './jwt.js';
import { type TrustAnchor, verifyChain, verifyRs256 } from './pki.js';
import { DANGEROUS_ENV_PREFIX, type Policy } from './policy.js';
import { asciiLowercase, rustTrim } from './text.js';

/** The only `swname` a Confidential Space token may carry. */
export const SWNAME = 'CONFIDENTIAL_SPACE';
/** The `dbgstat` of a production image. */
export const DBGSTAT_DISABLED = 'disabled-since-boot';

/** A token that passed every check. */
export interface Verified {
  readonly ok: true;
  /** The typed claims; times are exact `bigint`s. */
  readonly claims: Claims;
  /** Every claim, as plain JavaScript values (numbers as doubles): for display only. */
  readonly rawClaims: unknown;
  /** How the token named its key: always `PKI` here (the browser verifier has no JWKS). */
  readonly tokenType: 'PKI';
}

/** The verdict: verified, or the first failed check and why. */
export type Verdict = Verified | Failure;

/**
 * Verifies `token` against `policy` and the pinned `root` at `nowSeconds` (Unix seconds);
 * `eat_nonce` must contain every one of `nonces`. Never throws for a bad token; throws a
 * `RangeError` when `nowSeconds` is not whole non-negative seconds (a caller's bug).
 */
export async function verify(
  token: string,
  policy: Policy,
  root: TrustAnchor,
  nonces: readonly string[],
  nowSeconds: number | bigint,
): Promise<Verdict> {
  const now = toUnixSeconds(nowSeconds);
  try {
    const raw = await verifySigned(token, root, now);
    const claims = typeClaims(raw);
    checkClaims(claims, policy, nonces, now);
    return Object.freeze({ ok: true, claims, rawClaims: toPlain(raw), tokenType: 'PKI' as const });
  } catch (e) {
    if (e instanceof CheckFailed) return e.toFailure();
    // Anything unexpected is a rejection too: never an acceptance by accident.
    return { ok: false, check: 'format', detail: `verification did not complete: ${e instanceof Error ? e.message : String(e)}` };
  }
}

function toUnixSeconds(now: number | bigint): bigint {
  if (typeof now === 'bigint') {
    if (now < 0n) throw new RangeError('the verification time is negative');
    return now;
  }
  if (!Number.isSafeInteger(now) || now < 0) throw new RangeError('the verification time is not whole Unix seconds');
  return BigInt(now);
}

/** Size, format, header, algorithm, key, chain, signature: what makes the claims trustworthy. */
async function verifySigned(token: string, root: TrustAnchor, now: bigint): Promise<JsonObject> {
  const segments = split(token);
  const key = decodeHeader(segments.header);
  const claims = decodeClaims(segments.claims);
  const signature = decodeSignature(segments.signature);
  if (key.kind === 'kid') fail('key', 'this verifier accepts no OIDC (kid) tokens: it has a pinned root and no JWKS');
  const leafKey = await verifyChain(root, key.chain, now);
  if (!(await verifyRs256(leafKey, segments.signingInput, signature))) {
    fail('signature', 'the RS256 signature does not verify with the leaf key');
  }
  return claims;
}

/** The claim checks, each in the Rust verifier's order. */
function checkClaims(c: Claims, policy: Policy, nonces: readonly string[], now: bigint): void {
  const leeway = BigInt(policy.leeway_seconds);
  expectEq('issuer', 'iss', c.iss, policy.issuer);
  if (!c.aud.includes(policy.audience)) {
    fail('audience', `\`aud\` is ${JSON.stringify(c.aud)}, expected ${JSON.stringify(policy.audience)}`);
  }
  // u64 arithmetic saturates in Rust; bigint does not overflow, which gives the same answers.
  if (now > c.exp + leeway) fail('expiry', `the token expired at ${c.exp} (${now - c.exp} s before the verification time ${now})`);
  if (c.nbf > now + leeway) fail('not_before', `the token is not valid before ${c.nbf} (verification time ${now})`);
  if (c.iat > now + leeway) fail('issued_at', `the token is issued in the future, at ${c.iat} (verification time ${now})`);
  const missing = nonces.filter((n) => !c.eat_nonce.includes(n));
  if (missing.length > 0) fail('nonce', `\`eat_nonce\` lacks ${JSON.stringify(missing)}`);
  expectEq('swname', 'swname', c.swname, SWNAME);
  if (!c.secboot) fail('secboot', '`secboot` is false');
  if (!policy.allow_debug && c.dbgstat !== DBGSTAT_DISABLED) {
    fail('dbgstat', `\`dbgstat\` is ${JSON.stringify(c.dbgstat)}: debug images are refused unless the policy sets allow_debug`);
  }
  expectIn('hwmodel', 'hwmodel', c.hwmodel, policy.hwmodels);
  expectIn('image_digest', 'submods.container.image_digest', c.submods.container.image_digest, policy.image_digests);
  if (policy.project_ids !== null) {
    const gce = c.submods.gce ?? fail('project_id', '`submods.gce.project_id` is missing');
    expectIn('project_id', 'submods.gce.project_id', gce.project_id, policy.project_ids);
  }
  const have = supportAttributes(c);
  const lacking = policy.support_attributes.filter((a) => !have.includes(a));
  if (lacking.length > 0) fail('support_attributes', `support attributes ${JSON.stringify(have)} lack ${JSON.stringify(lacking)}`);
  const dangerous = dangerousSettings(c);
  if (dangerous.length > 0 && !policy.allow_dangerous_settings) {
    fail('environment', `the enclave runs with dangerous development settings ${JSON.stringify(dangerous)}; refused unless the policy sets allow_dangerous_settings`);
  }
}

/** Names of `AILERON_DANGEROUS_*` variables turned on (anything but empty, `0`, `false`). */
function dangerousSettings(c: Claims): string[] {
  const { env, env_override } = c.submods.container;
  return [...env, ...env_override]
    .filter(([name, value]) => name.startsWith(DANGEROUS_ENV_PREFIX) && !['', '0', 'false'].includes(asciiLowercase(rustTrim(value))))
    .map(([name]) => name);
}

function expectEq(check: 'issuer' | 'swname', name: string, actual: string, expected: string): void {
  if (actual !== expected) fail(check, `\`${name}\` is ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
}

function expectIn(check: 'hwmodel' | 'image_digest' | 'project_id', name: string, actual: string, allowed: readonly string[]): void {
  if (!allowed.includes(actual)) fail(check, `\`${name}\` ${JSON.stringify(actual)} is not one of ${JSON.stringify(allowed)}`);
}
