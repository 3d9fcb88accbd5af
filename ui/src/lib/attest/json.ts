/**
 * Strict JSON, as the Rust verifier's `serde_json` reads it (attest/src/json.rs).
 *
 * `JSON.parse` keeps the last of two equal keys, accepts lone UTF-16 surrogates in `\u` escapes,
 * nests without limit, turns `1e400` into `Infinity` and forgets how a number was written
 * (`2`, `2.0` and `2e0` are one value). A verifier must refuse the first four and see the last:
 * `exp` must be a JSON integer. This parser builds a tree that keeps each number's text, and
 * refuses what `serde_json` 1.0 refuses:
 * - a duplicate key in any object, compared after escapes are decoded;
 * - anything outside RFC 8259 (trailing commas, comments, leading zeros, `NaN`, a BOM, …);
 * - a `\u` escape that is a lone surrogate (Rust strings are UTF-8);
 * - a number whose value overflows a double (`serde_json`'s "number out of range");
 * - more than {@link MAX_DEPTH} nested arrays and objects (`serde_json`'s recursion limit).
 */

/** Nested arrays and objects allowed: `serde_json` starts at 128 and fails when it reaches 0. */
export const MAX_DEPTH = 127;

/** A JSON number, kept as written so integer claims can be told from `1.5` or `1e3`. */
export class JsonNumber {
  constructor(readonly text: string) {}

  /** Whether the text is an unsigned integer (no sign, fraction or exponent). */
  isUnsignedInteger(): boolean {
    return /^(0|[1-9][0-9]*)$/.test(this.text);
  }
}

/** A JSON object: a `Map`, so keys like `__proto__` are plain data. */
export type JsonObject = Map<string, JsonValue>;
/** A parsed JSON value. */
export type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | JsonObject;

/** Why a JSON document was refused. */
export class JsonError extends Error {
  override name = 'JsonError';
}

/** Whether `value` is a JSON object. */
export function isObject(value: JsonValue | undefined): value is JsonObject {
  return value instanceof Map;
}

/** Parses `text` as one JSON object, refusing everything `serde_json` refuses (see above). */
export function parseObject(text: string): JsonObject {
  const value = parseValue(text);
  if (!isObject(value)) throw new JsonError('not a JSON object');
  return value;
}

/** Parses `text` as one JSON value. */
export function parseValue(text: string): JsonValue {
  const parser = new Parser(text);
  parser.skipWhitespace();
  const value = parser.value(0);
  parser.skipWhitespace();
  if (!parser.atEnd()) throw parser.error('trailing characters');
  return value;
}

/** Decodes UTF-8 bytes, refusing invalid sequences and keeping a BOM (which then fails to parse). */
export function utf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new JsonError('invalid UTF-8');
  }
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const ESCAPES: Record<string, string> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

class Parser {
  private pos = 0;

  constructor(private readonly text: string) {}

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  error(what: string): JsonError {
    return new JsonError(`${what} at character ${this.pos}`);
  }

  skipWhitespace(): void {
    while (!this.atEnd() && ' \t\n\r'.includes(this.text.charAt(this.pos))) this.pos += 1;
  }

  value(depth: number): JsonValue {
    const c = this.text.charAt(this.pos);
    if (c === '{') return this.object(depth + 1);
    if (c === '[') return this.array(depth + 1);
    if (c === '"') return this.string();
    if (c === '-' || (c >= '0' && c <= '9')) return this.number();
    for (const [word, value] of [['true', true], ['false', false], ['null', null]] as const) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return value;
      }
    }
    throw this.error(this.atEnd() ? 'EOF while parsing a value' : 'expected value');
  }

  private enter(depth: number): void {
    if (depth > MAX_DEPTH) throw this.error('recursion limit exceeded');
    this.pos += 1;
    this.skipWhitespace();
  }

  private object(depth: number): JsonObject {
    this.enter(depth);
    const map: JsonObject = new Map();
    if (this.eat('}')) return map;
    for (;;) {
      if (this.text.charAt(this.pos) !== '"') throw this.error('key must be a string');
      const key = this.string();
      if (map.has(key)) throw this.error(`duplicate key \`${key}\``);
      this.skipWhitespace();
      if (!this.eat(':')) throw this.error("expected ':'");
      this.skipWhitespace();
      map.set(key, this.value(depth));
      this.skipWhitespace();
      if (this.eat('}')) return map;
      if (!this.eat(',')) throw this.error("expected ',' or '}'");
      this.skipWhitespace();
    }
  }

  private array(depth: number): JsonValue[] {
    this.enter(depth);
    const items: JsonValue[] = [];
    if (this.eat(']')) return items;
    for (;;) {
      items.push(this.value(depth));
      this.skipWhitespace();
      if (this.eat(']')) return items;
      if (!this.eat(',')) throw this.error("expected ',' or ']'");
      this.skipWhitespace();
    }
  }

  private number(): JsonNumber {
    NUMBER.lastIndex = this.pos;
    const match = NUMBER.exec(this.text);
    if (match === null) throw this.error('invalid number');
    this.pos += match[0].length;
    // A digit or '.' right after a complete number means `01`, `1.` or `1.2.3`.
    if (/[0-9.eE+-]/.test(this.text.charAt(this.pos))) throw this.error('invalid number');
    if (!Number.isFinite(Number(match[0]))) throw this.error('number out of range');
    return new JsonNumber(match[0]);
  }

  private string(): string {
    this.pos += 1;
    let out = '';
    for (;;) {
      if (this.atEnd()) throw this.error('EOF while parsing a string');
      const c = this.text.charAt(this.pos);
      this.pos += 1;
      if (c === '"') return out;
      if (c === '\\') {
        out += this.escape();
      } else if (c < ' ') {
        throw this.error('control character while parsing a string');
      } else {
        out += c;
      }
    }
  }

  /** One escape after `\`: serde_json validates surrogates, so only whole pairs pass. */
  private escape(): string {
    const c = this.text.charAt(this.pos);
    this.pos += 1;
    const simple = ESCAPES[c];
    if (simple !== undefined) return simple;
    if (c !== 'u') throw this.error('invalid escape');
    const first = this.hex4();
    if (first >= 0xdc00 && first <= 0xdfff) throw this.error('lone surrogate in hex escape');
    if (first < 0xd800 || first > 0xdbff) return String.fromCharCode(first);
    if (!this.text.startsWith('\\u', this.pos)) throw this.error('unexpected end of hex escape');
    this.pos += 2;
    const second = this.hex4();
    if (second < 0xdc00 || second > 0xdfff) throw this.error('lone surrogate in hex escape');
    return String.fromCharCode(first, second);
  }

  private hex4(): number {
    const digits = this.text.slice(this.pos, this.pos + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(digits)) throw this.error('invalid escape');
    this.pos += 4;
    return parseInt(digits, 16);
  }

  private eat(c: string): boolean {
    if (this.text.charAt(this.pos) !== c) return false;
    this.pos += 1;
    return true;
  }
}

/** The tree as plain JavaScript values (numbers as doubles): for display, never for decisions. */
export function toPlain(value: JsonValue): unknown {
  if (value instanceof JsonNumber) return Number(value.text);
  if (Array.isArray(value)) return value.map(toPlain);
  if (isObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of value) {
      Object.defineProperty(out, k, { value: toPlain(v), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return value;
}
