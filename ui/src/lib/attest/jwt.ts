/**
 * The compact JWS layer (attest/src/jwt.rs): size limit, three segments, strict base64url, and
 * the header allow-list. The algorithm is ours (RS256), never the header's.
 */
import { fail } from './checks.js';
import { fromB64u, utf8Length } from './encoding.js';
import { JsonError, type JsonObject, parseObject, utf8 } from './json.js';

/** Tokens longer than this (in UTF-8 bytes) are rejected before any parsing. */
export const MAX_TOKEN_BYTES = 64 * 1024;
/** The only signature algorithm accepted. */
export const ALGORITHM = 'RS256';
/**
 * Header parameters understood. Anything else is refused: `crit` because no extension is
 * implemented, `jku`/`x5u`/`jwk` because keys never come from where the token points.
 */
const ALLOWED_HEADER: readonly string[] = ['alg', 'typ', 'kid', 'x5c'];

/** A token's segments, still encoded, and what the signature covers. */
export interface Segments {
  readonly header: string;
  readonly claims: string;
  readonly signature: string;
  readonly signingInput: Uint8Array;
}

/** Where the signing key comes from. */
export type KeyRef = { readonly kind: 'x5c'; readonly chain: readonly string[] } | { readonly kind: 'kid'; readonly kid: string };

/** Checks the size and splits the token into its three segments. */
export function split(token: string): Segments {
  const bytes = utf8Length(token);
  if (bytes > MAX_TOKEN_BYTES) fail('size', `the token is ${bytes} bytes, the limit is ${MAX_TOKEN_BYTES}`);
  const trimmed = token.replace(/[\r\n]+$/, '');
  const parts = trimmed.split('.');
  if (parts.length !== 3) fail('format', "a JWS has exactly three '.'-separated parts");
  const [header, claims, signature] = parts as [string, string, string];
  return { header, claims, signature, signingInput: new TextEncoder().encode(`${header}.${claims}`) };
}

/** Decodes the header segment and applies the header rules; returns the key reference. */
export function decodeHeader(segment: string): KeyRef {
  return parseHeader(decodeJsonSegment(segment, 'header'));
}

/** Decodes the claims segment: one JSON object with no duplicate key anywhere. */
export function decodeClaims(segment: string): JsonObject {
  return decodeJsonSegment(segment, 'claims');
}

/** Decodes the signature segment. */
export function decodeSignature(segment: string): Uint8Array {
  return b64url(segment, 'signature');
}

function b64url(segment: string, what: string): Uint8Array {
  return fromB64u(segment) ?? fail('format', `the ${what} segment is not unpadded base64url`);
}

function decodeJsonSegment(segment: string, what: string): JsonObject {
  const bytes = b64url(segment, what);
  try {
    return parseObject(utf8(bytes));
  } catch (e) {
    if (e instanceof JsonError) fail('format', `the ${what} segment is not strict JSON: ${e.message}`);
    throw e;
  }
}

/** The header rules, in the Rust verifier's order: parameters, `alg`, `typ`, `kid`, `x5c`. */
export function parseHeader(map: JsonObject): KeyRef {
  for (const name of map.keys()) {
    if (ALLOWED_HEADER.includes(name)) continue;
    if (name === 'crit') fail('header', '`crit` names extensions this verifier does not implement');
    if (name === 'jku' || name === 'x5u' || name === 'jwk') {
      fail('header', `\`${name}\` would take the key from the token itself; keys are pinned`);
    }
    fail('header', `unknown header parameter \`${name}\``);
  }
  const alg = map.get('alg');
  if (alg === undefined) fail('algorithm', '`alg` is missing');
  if (typeof alg !== 'string') fail('algorithm', '`alg` is not a string');
  if (alg !== ALGORITHM) fail('algorithm', `\`alg\` is ${alg}, only ${ALGORITHM} is accepted`);
  const typ = map.get('typ');
  if (typ !== undefined && typ !== 'JWT') fail('header', '`typ` is not "JWT"');
  const kid = map.get('kid');
  if (kid !== undefined && typeof kid !== 'string') fail('header', '`kid` is not a string');
  const x5c = map.get('x5c');
  if (x5c !== undefined) return { kind: 'x5c', chain: x5cStrings(x5c) };
  if (kid !== undefined) return { kind: 'kid', kid };
  return fail('header', 'neither `x5c` nor `kid` is present');
}

function x5cStrings(x5c: unknown): string[] {
  if (!Array.isArray(x5c)) fail('header', '`x5c` is not an array');
  if (x5c.length === 0 || x5c.length > 3) {
    fail('header', `\`x5c\` has ${x5c.length} certificates, expected 2 or 3`);
  }
  return x5c.map((c: unknown) => (typeof c === 'string' ? c : fail('header', '`x5c` entry is not a string')));
}
