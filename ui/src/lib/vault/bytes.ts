// Byte helpers of the vault format: unpadded base64url (RFC 4648 §5), hex for the test
// vectors, strict UTF-8, and wiping. WebCrypto wants `Uint8Array<ArrayBuffer>`, hence `Bytes`.

import { VaultError } from './errors';

export type Bytes = Uint8Array<ArrayBuffer>;

const B64U = /^[A-Za-z0-9_-]*$/;

export function b64u(bytes: Uint8Array): string {
	let binary = '';
	for (const byte of bytes) binary += String.fromCharCode(byte);
	return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

/** Decodes unpadded base64url, refusing padding, other alphabets and non-canonical endings. */
export function fromB64u(text: string, what: string): Bytes {
	if (!B64U.test(text) || text.length % 4 === 1) {
		throw new VaultError('malformed', `${what} is not unpadded base64url`);
	}
	const binary = atob(text.replaceAll('-', '+').replaceAll('_', '/'));
	const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
	// The same bytes have one encoding: refuse stray bits in the last character, as Rust does.
	if (b64u(bytes) !== text) throw new VaultError('malformed', `${what} is not canonical base64url`);
	return bytes;
}

export function hex(bytes: Uint8Array): string {
	return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

export function fromHex(text: string): Bytes {
	if (!/^(?:[0-9a-f]{2})*$/.test(text)) throw new VaultError('malformed', 'not lower-case hex');
	return Uint8Array.from(text.match(/../g) ?? [], (pair) => parseInt(pair, 16));
}

/**
 * UTF-8 of a well-formed string. `TextEncoder` would silently turn a lone surrogate into
 * U+FFFD, giving bytes no other implementation would derive from what the person typed.
 */
export function utf8(text: string, what: string): Bytes {
	if (/\p{Surrogate}/u.test(text)) {
		throw new VaultError('malformed', `${what} is not well-formed Unicode (a lone surrogate)`);
	}
	return new TextEncoder().encode(text) as Bytes;
}

export function concat(parts: Uint8Array[]): Bytes {
	const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
	let at = 0;
	for (const part of parts) {
		out.set(part, at);
		at += part.length;
	}
	return out;
}

/**
 * Overwrites secret bytes with zeros. A view of a transferred (detached) buffer has a length of
 * 0 and nothing left to wipe; `fill` would throw on it.
 */
export function wipe(...arrays: (Uint8Array | undefined)[]): void {
	for (const array of arrays) if (array !== undefined && array.byteLength > 0) array.fill(0);
}

export function expectLength(bytes: Uint8Array, length: number, what: string): void {
	if (bytes.length !== length) {
		throw new VaultError('malformed', `${what} must be ${length} bytes, not ${bytes.length}`);
	}
}
