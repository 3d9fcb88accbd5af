import { describe, expect, it } from 'vitest';

import { b64u, fromB64u, fromHex, hex, wipe } from './bytes';
import { refusal } from './testing/refusal';

describe('base64url', () => {
	it('encodes without padding in the URL alphabet, and decodes back', () => {
		const bytes = new Uint8Array([0xfb, 0xff, 0xfe, 0x00]);
		expect(b64u(bytes)).toBe('-__-AA');
		expect(hex(fromB64u('-__-AA', 't'))).toBe('fbfffe00');
		expect(hex(fromB64u('', 't'))).toBe('');
	});

	it.each([
		['padding', 'AA=='],
		['the standard alphabet', '+//+AA'],
		['an impossible length', 'AAAAA'],
		['stray bits in the last character', 'AB'],
		['whitespace', 'AA AA']
	])('refuses %s as malformed', async (_, text) => {
		expect(await refusal(() => fromB64u(text, 't'))).toBe('malformed');
	});
});

describe('hex', () => {
	it('round-trips lower-case hex and refuses anything else', async () => {
		expect(hex(fromHex('00ff10'))).toBe('00ff10');
		expect(await refusal(() => fromHex('0F'))).toBe('malformed');
		expect(await refusal(() => fromHex('abc'))).toBe('malformed');
	});
});

describe('wipe', () => {
	it('zeroes every array it is given and passes over a transferred one', () => {
		const a = new Uint8Array([1, 2, 3]);
		const b = new Uint8Array([4, 5]);
		const gone = new Uint8Array([6]);
		structuredClone(gone.buffer, { transfer: [gone.buffer] });
		wipe(a, undefined, gone, b);
		expect([...a, ...b]).toEqual([0, 0, 0, 0, 0]);
	});
});
