/**
 * Rust's `str::trim`: strips Unicode `White_Space`. JavaScript's `String.prototype.trim` differs
 * (it strips U+FEFF and keeps U+0085), so a value like `"\u0085false"` would be judged
 * differently by the two verifiers.
 */
const RUST_WHITESPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;

/** Trims as Rust's `str::trim` does. */
export function rustTrim(s: string): string {
  return s.replace(RUST_WHITESPACE, '');
}

/** Lowercases ASCII letters only, as Rust's `to_ascii_lowercase`. */
export function asciiLowercase(s: string): string {
  return s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}
