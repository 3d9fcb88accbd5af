/**
 * The attestation policy (attest/src/policy.rs), from JSON with the TOML policy's keys. Parsed
 * strictly: unknown keys, wrong types, `null` and out-of-range values are errors, never ignored.
 */
import { isObject, JsonError, JsonNumber, type JsonValue, parseValue } from './json.js';
import { rustTrim } from './text.js';

/** Google's Confidential Space token issuer. */
export const GOOGLE_ISSUER = 'https://confidentialcomputing.googleapis.com';
/** The issuer of the local development issuer. */
export const LOCAL_ISSUER = 'https://aileron.local/attestation';
/** Default leeway on `exp`, `nbf` and `iat`, in seconds. */
export const DEFAULT_LEEWAY_SECONDS = 60;
/** Upper bound on the leeway a policy may ask for. */
export const MAX_LEEWAY_SECONDS = 3600;
/** Hardware models accepted unless the policy says otherwise. */
export const DEFAULT_HWMODELS: readonly string[] = ['GCP_AMD_SEV', 'GCP_AMD_SEV_ES', 'GCP_INTEL_TDX'];
/** Variables whose name starts with this are an enclave's dangerous development settings. */
export const DANGEROUS_ENV_PREFIX = 'AILERON_DANGEROUS_';

/** A validated policy. Only {@link parsePolicy} makes one. */
export interface Policy {
  readonly audience: string;
  readonly image_digests: readonly string[];
  /** `null`: projects are not checked. */
  readonly project_ids: readonly string[] | null;
  readonly hwmodels: readonly string[];
  readonly support_attributes: readonly string[];
  readonly allow_debug: boolean;
  readonly leeway_seconds: number;
  readonly issuer: string;
  readonly allow_dangerous_settings: boolean;
  /** Brand: a policy object from anywhere else does not type-check. */
  readonly [validated]: true;
}

declare const validated: unique symbol;

/** Why a policy was refused; `key` names the offending key when there is one. */
export class PolicyError extends Error {
  override name = 'PolicyError';

  constructor(
    readonly key: string | null,
    reason: string,
  ) {
    super(key === null ? `invalid policy: ${reason}` : `invalid policy: \`${key}\` ${reason}`);
  }
}

const KEYS = [
  'audience',
  'image_digests',
  'project_ids',
  'hwmodels',
  'support_attributes',
  'allow_debug',
  'leeway_seconds',
  'issuer',
  'allow_dangerous_settings',
] as const;

type Key = (typeof KEYS)[number];

/**
 * Validates a policy: a JSON text, or an already parsed JSON object (as a run-time setting may
 * arrive). A text is parsed strictly (duplicate keys refused), and only a text can tell `60`
 * from `60.0`, which the TOML policy refuses.
 */
export function parsePolicy(input: unknown): Policy {
  const raw = typeof input === 'string' ? parseText(input) : fromPlain(input, 'policy');
  if (!isObject(raw)) throw new PolicyError(null, 'must be a JSON object');
  for (const key of raw.keys()) {
    if (!(KEYS as readonly string[]).includes(key)) throw new PolicyError(key, 'is not a policy key');
  }
  const get = (key: Key): JsonValue | undefined => raw.get(key);
  return build(get);
}

function build(get: (key: Key) => JsonValue | undefined): Policy {
  const audience = str(get('audience'), 'audience', true);
  if (rustTrim(audience) === '') throw new PolicyError('audience', 'must not be empty');
  const image_digests = strs(get('image_digests'), 'image_digests', true);
  if (image_digests.length === 0) throw new PolicyError('image_digests', 'must name at least one digest');
  const bad = image_digests.find((d) => !isSha256Digest(d));
  if (bad !== undefined) {
    throw new PolicyError('image_digests', `entry ${JSON.stringify(bad)} is not \`sha256:\` followed by 64 lowercase hex digits`);
  }
  const project_ids = get('project_ids') === undefined ? null : strs(get('project_ids'), 'project_ids', true);
  if (project_ids !== null && (project_ids.length === 0 || project_ids.some((p) => rustTrim(p) === ''))) {
    throw new PolicyError('project_ids', 'must be absent (not checked) or list non-empty project ids');
  }
  const hwmodels = get('hwmodels') === undefined ? [...DEFAULT_HWMODELS] : strs(get('hwmodels'), 'hwmodels', true);
  if (hwmodels.length === 0) throw new PolicyError('hwmodels', 'must name at least one hardware model');
  const leeway_seconds = leeway(get('leeway_seconds'));
  const issuer = get('issuer') === undefined ? GOOGLE_ISSUER : str(get('issuer'), 'issuer', true);
  if (issuer !== GOOGLE_ISSUER && issuer !== LOCAL_ISSUER) {
    throw new PolicyError('issuer', `must be ${GOOGLE_ISSUER} or, for local mode, ${LOCAL_ISSUER}`);
  }
  const policy = {
    audience,
    image_digests: Object.freeze(image_digests),
    project_ids: project_ids === null ? null : Object.freeze(project_ids),
    hwmodels: Object.freeze(hwmodels),
    support_attributes: Object.freeze(get('support_attributes') === undefined ? [] : strs(get('support_attributes'), 'support_attributes', true)),
    allow_debug: bool(get('allow_debug'), 'allow_debug'),
    leeway_seconds,
    issuer,
    allow_dangerous_settings: bool(get('allow_dangerous_settings'), 'allow_dangerous_settings'),
  };
  return Object.freeze(policy) as unknown as Policy;
}

/** `sha256:` followed by 64 lowercase hex digits. */
export function isSha256Digest(s: string): boolean {
  return /^sha256:[0-9a-f]{64}$/.test(s);
}

function missing(key: Key): never {
  throw new PolicyError(key, 'is required');
}

function str(v: JsonValue | undefined, key: Key, req: boolean): string {
  if (v === undefined && req) missing(key);
  if (typeof v !== 'string') throw new PolicyError(key, 'must be a string');
  return v;
}

function strs(v: JsonValue | undefined, key: Key, req: boolean): string[] {
  if (v === undefined && req) missing(key);
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw new PolicyError(key, 'must be an array of strings');
  return [...(v as string[])];
}

function bool(v: JsonValue | undefined, key: Key): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw new PolicyError(key, 'must be true or false');
  return v;
}

function leeway(v: JsonValue | undefined): number {
  if (v === undefined) return DEFAULT_LEEWAY_SECONDS;
  if (!(v instanceof JsonNumber) || !v.isUnsignedInteger()) {
    throw new PolicyError('leeway_seconds', 'must be a non-negative integer');
  }
  const n = Number(v.text);
  if (n > MAX_LEEWAY_SECONDS) throw new PolicyError('leeway_seconds', `must be at most ${MAX_LEEWAY_SECONDS}`);
  return n;
}

function parseText(text: string): JsonValue {
  try {
    return parseValue(text);
  } catch (e) {
    if (e instanceof JsonError) throw new PolicyError(null, `is not strict JSON: ${e.message}`);
    throw e;
  }
}

/** A plain JavaScript value as a JSON tree; anything JSON cannot hold is refused. */
function fromPlain(v: unknown, path: string): JsonValue {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new PolicyError(null, `${path} is not a finite number`);
    // A JavaScript number has lost its spelling: integral values count as integers.
    return new JsonNumber(Number.isInteger(v) && v >= 0 ? BigInt(v).toString() : String(v));
  }
  if (Array.isArray(v)) return v.map((item, i) => fromPlain(item, `${path}[${i}]`));
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    return new Map(Object.entries(v).map(([k, item]) => [k, fromPlain(item, `${path}.${k}`)]));
  }
  throw new PolicyError(null, `${path} is not a JSON value`);
}
