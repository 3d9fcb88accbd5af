/**
 * Byte encodings, decoded as strictly as the Rust `base64` 0.22 engines the verifier uses:
 * `URL_SAFE_NO_PAD` for JWS segments and the protocol's bytes (no `=`, zero trailing bits) and
 * `STANDARD` for `x5c` entries (canonical `=` padding, zero trailing bits). `atob` and Node's
 * `Buffer` accept non-canonical encodings, so one token could have several spellings.
 */

const URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const STD_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Decodes unpadded base64url; `null` when not canonical. */
export function fromB64u(text: string): Uint8Array | null {
  return decode(text, URL_ALPHABET);
}

/** Decodes padded standard base64; `null` when not canonical. */
export function fromB64Std(text: string): Uint8Array | null {
  if (text.length % 4 !== 0) return null;
  const body = text.replace(/={1,2}$/, '');
  if (text.length - body.length > 0 && body.length % 4 === 0) return null;
  return decode(body, STD_ALPHABET);
}

function decode(text: string, alphabet: string): Uint8Array | null {
  if (text.length % 4 === 1) return null;
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let acc = 0;
  let bits = 0;
  let n = 0;
  for (const c of text) {
    const v = alphabet.indexOf(c);
    if (v < 0) return null;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (acc >> bits) & 0xff;
      acc &= (1 << bits) - 1;
    }
  }
  // Leftover bits must be zero: otherwise two spellings would decode to the same bytes.
  if (acc !== 0) return null;
  return out;
}

/** Encodes as unpadded base64url. */
export function b64u(bytes: Uint8Array): string {
  return encode(bytes, URL_ALPHABET, false);
}

/** Encodes as padded standard base64. */
export function b64Std(bytes: Uint8Array): string {
  return encode(bytes, STD_ALPHABET, true);
}

function encode(bytes: Uint8Array, alphabet: string, pad: boolean): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const chunk = ((bytes[i] ?? 0) << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = Math.min(4, Math.ceil(((bytes.length - i) * 8) / 6));
    for (let j = 0; j < 4; j++) {
      if (j < chars) out += alphabet.charAt((chunk >> (18 - 6 * j)) & 63);
      else if (pad) out += '=';
    }
  }
  return out;
}

/** Decodes exactly `length` bytes of lowercase hex (the protocol's spelling); `null` otherwise. */
export function fromHex(text: string, length: number): Uint8Array | null {
  if (text.length !== 2 * length || !/^[0-9a-f]*$/.test(text)) return null;
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Lowercase hex. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** UTF-8 length of a string, as Rust's `str::len` counts it. */
export function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}
