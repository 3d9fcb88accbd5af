/**
 * Typed Confidential Space claims, read with the JSON types the Rust verifier's `serde` structs
 * demand (attest/src/claims.rs): `exp` a JSON unsigned integer (not `"2"`, `2.5`, `-1` or `2e0`),
 * `secboot` a boolean, `aud`/`eat_nonce` a string or an array of strings, optional fields absent
 * or `null`, arrays and maps never `null`. Unknown claims are ignored.
 *
 * `serde_json` also reads a struct from a JSON array of its fields in declaration order
 * (`"submods": [["sha256:…"]]`); the Rust verifier therefore accepts that spelling for the nested
 * structs, and so does this reader, so both decide alike.
 */
import { fail } from './checks.js';
import { isObject, JsonNumber, type JsonObject, type JsonValue } from './json.js';

const U64_MAX = (1n << 64n) - 1n;

/** The claims the verifier checks and callers use. Times are exact (`bigint`). */
export interface Claims {
  readonly iss: string;
  readonly aud: readonly string[];
  readonly sub: string | null;
  readonly iat: bigint;
  readonly nbf: bigint;
  readonly exp: bigint;
  readonly eat_nonce: readonly string[];
  readonly swname: string;
  readonly swversion: readonly string[];
  readonly secboot: boolean;
  readonly dbgstat: string;
  readonly hwmodel: string;
  readonly submods: Submods;
}

/** `submods`. */
export interface Submods {
  readonly container: Container;
  readonly gce: Gce | null;
  readonly confidential_space: ConfidentialSpace | null;
}

/** `submods.container`. */
export interface Container {
  readonly image_digest: string;
  readonly image_reference: string | null;
  readonly image_id: string | null;
  readonly restart_policy: string | null;
  readonly env: ReadonlyMap<string, string>;
  readonly env_override: ReadonlyMap<string, string>;
}

/** `submods.gce`. */
export interface Gce {
  readonly project_id: string;
  readonly project_number: string | null;
  readonly zone: string | null;
  readonly instance_name: string | null;
  readonly instance_id: string | null;
}

/** `submods.confidential_space`. */
export interface ConfidentialSpace {
  readonly support_attributes: readonly string[];
}

/** Reads one field's value; `path` names it in errors. */
type Reader<T> = (value: JsonValue, path: string) => T;

/** A struct field: its reader, and its value when absent (`undefined`: required). */
interface Field<T> {
  readonly read: Reader<T>;
  readonly absent?: () => T;
}

type Fields<T> = { readonly [K in keyof T]: Field<T[K]> };

function wrongType(path: string, expected: string): never {
  return fail('claims', `\`${path}\` must be ${expected}`);
}

const string: Reader<string> = (v, path) => (typeof v === 'string' ? v : wrongType(path, 'a string'));

const boolean: Reader<boolean> = (v, path) => (typeof v === 'boolean' ? v : wrongType(path, 'true or false'));

const u64: Reader<bigint> = (v, path) => {
  if (v instanceof JsonNumber && v.isUnsignedInteger()) {
    const n = BigInt(v.text);
    if (n <= U64_MAX) return n;
  }
  return wrongType(path, 'a JSON integer from 0 to 2^64-1');
};

const strings: Reader<string[]> = (v, path) => {
  if (!Array.isArray(v)) return wrongType(path, 'an array of strings');
  return v.map((item, i) => string(item, `${path}[${i}]`));
};

/** `OneOrMany`: a string, or an array of strings. */
const oneOrMany: Reader<string[]> = (v, path) =>
  typeof v === 'string' ? [v] : Array.isArray(v) && v.every((s) => typeof s === 'string') ? (v as string[]) : wrongType(path, 'a string or an array of strings');

const stringMap: Reader<Map<string, string>> = (v, path) => {
  if (!isObject(v)) return wrongType(path, 'an object of strings');
  return new Map([...v].map(([k, item]) => [k, string(item, `${path}.${k}`)]));
};

function optional<T>(read: Reader<T>): Field<T | null> {
  return { read: (v, path) => (v === null ? null : read(v, path)), absent: () => null };
}

function required<T>(read: Reader<T>): Field<T> {
  return { read };
}

function defaulted<T>(read: Reader<T>, absent: () => T): Field<T> {
  return { read, absent };
}

/** A struct from a JSON object (by name) or a JSON array (by position), as `serde_json` does. */
function struct<T>(fields: Fields<T>): Reader<T> {
  const names = Object.keys(fields) as (keyof T & string)[];
  return (v, path) => {
    const out: Partial<Record<keyof T, unknown>> = {};
    if (isObject(v)) {
      for (const name of names) out[name] = fieldFrom(fields[name], v.get(name), join(path, name));
    } else if (Array.isArray(v)) {
      if (v.length > names.length) fail('claims', `\`${path || 'claims'}\` has more elements than fields`);
      names.forEach((name, i) => {
        out[name] = fieldFrom(fields[name], v[i], join(path, name));
      });
    } else {
      wrongType(path || 'claims', 'an object');
    }
    return out as T;
  };
}

function join(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}

function fieldFrom<T>(field: Field<T>, value: JsonValue | undefined, path: string): T {
  if (value !== undefined) return field.read(value, path);
  if (field.absent !== undefined) return field.absent();
  return fail('claims', `the claim \`${path}\` is missing`);
}

const confidentialSpace = struct<ConfidentialSpace>({
  support_attributes: defaulted(strings, () => []),
});

const gce = struct<Gce>({
  project_id: required(string),
  project_number: optional(string),
  zone: optional(string),
  instance_name: optional(string),
  instance_id: optional(string),
});

const container = struct<Container>({
  image_digest: required(string),
  image_reference: optional(string),
  image_id: optional(string),
  restart_policy: optional(string),
  env: defaulted(stringMap, () => new Map()),
  env_override: defaulted(stringMap, () => new Map()),
});

const submods = struct<Submods>({
  container: required(container),
  gce: optional(gce),
  confidential_space: optional(confidentialSpace),
});

const claims = struct<Claims>({
  iss: required(string),
  aud: required(oneOrMany),
  sub: optional(string),
  iat: required(u64),
  nbf: required(u64),
  exp: required(u64),
  eat_nonce: required(oneOrMany),
  swname: required(string),
  swversion: defaulted(strings, () => []),
  secboot: required(boolean),
  dbgstat: required(string),
  hwmodel: required(string),
  submods: required(submods),
});

/** Types the claims; a missing claim or one of the wrong JSON type fails `claims`. */
export function typeClaims(map: JsonObject): Claims {
  return claims(map, '');
}

/** The support attributes, empty when the token has none. */
export function supportAttributes(c: Claims): readonly string[] {
  return c.submods.confidential_space?.support_attributes ?? [];
}
