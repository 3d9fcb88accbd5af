import { describe, expect, it } from 'vitest';

import { b64u, fromB64u, fromHex, hex, utf8 } from './bytes';
import type { VaultErrorCode } from './errors';
import { deriveKekBytes } from './kdf';
import { normalisePassphrase } from './normalise';
import { checkKdfParams, KDF_CEILING, KDF_DEFAULT, KDF_FLOOR, parseStoredKdf, storedKdf, type KdfParams } from './params';
import { refusal } from './testing/refusal';
import { vectors } from './testing/vectors';

describe('the kdf vectors', () => {
	it.each(vectors.kdf.map((v, i) => [i, v] as const))('kdf[%i]: the KEK is Argon2id of the NFC passphrase', async (_, v) => {
		expect(hex(utf8(v.passphrase, 'test'))).toBe(v.passphrase_utf8_hex);
		const kek = await deriveKekBytes(normalisePassphrase(v.passphrase), fromB64u(v.salt, 'salt'), v);
		expect(hex(kek)).toBe(v.kek_hex);
	});

	it('kdf[1] is given in NFD, and stretching it unnormalised gives another KEK', async () => {
		const v = vectors.kdf[1]!;
		const raw = fromHex(v.passphrase_utf8_hex);
		expect(hex(normalisePassphrase(v.passphrase))).not.toBe(hex(raw));
		const unnormalised = await deriveKekBytes(raw, fromB64u(v.salt, 'salt'), v);
		expect(hex(unnormalised)).not.toBe(v.kek_hex);
	});
});

describe('normalisePassphrase', () => {
	it('gives the NFC and NFD spellings the same bytes, the NFC UTF-8', () => {
		const nfc = 'caf\u00e9 cr\u00e8me';
		expect(hex(normalisePassphrase('cafe\u0301 cre\u0300me'))).toBe(hex(new TextEncoder().encode(nfc)));
		expect(hex(normalisePassphrase(nfc))).toBe(hex(new TextEncoder().encode(nfc)));
	});

	it('uses NFC, not NFKC: a ligature stays itself', () => {
		expect(hex(normalisePassphrase('\ufb01'))).toBe('efac81');
	});

	it('keeps characters outside the BMP (a surrogate pair is well formed)', () => {
		expect(hex(normalisePassphrase('\u{1f511}'))).toBe('f09f9491');
	});

	it.each([
		['a lone high surrogate', 'pass\ud83dword'],
		['a lone low surrogate', '\udd11pass']
	])('refuses %s as malformed (TextEncoder would silently replace it)', async (_, passphrase) => {
		expect(await refusal(() => normalisePassphrase(passphrase))).toBe('malformed');
	});
});

describe('the parameter bounds', () => {
	it('are the vectors\' floor, ceiling and default', () => {
		expect(KDF_FLOOR).toEqual(vectors.parameters.floor);
		expect(KDF_CEILING).toEqual(vectors.parameters.ceiling);
		expect(KDF_DEFAULT).toEqual(vectors.parameters.default);
	});

	it.each<[string, KdfParams]>([
		['the floor', KDF_FLOOR],
		['the ceiling', KDF_CEILING],
		...vectors.kdf.map((v, i): [string, KdfParams] => [`kdf[${i}]'s`, v])
	])('accept %s parameters (the bounds are inclusive)', (_, params) => {
		expect(checkKdfParams(params)).toEqual({ m_cost_kib: params.m_cost_kib, t_cost: params.t_cost, p_cost: params.p_cost });
	});

	it.each<[string, KdfParams]>([
		['m_cost_kib below the floor (65535)', { m_cost_kib: 65535, t_cost: 3, p_cost: 1 }],
		['m_cost_kib far below the floor (8)', { m_cost_kib: 8, t_cost: 3, p_cost: 1 }],
		['t_cost below the floor (2)', { m_cost_kib: 65536, t_cost: 2, p_cost: 1 }],
		['p_cost below the floor (0)', { m_cost_kib: 65536, t_cost: 3, p_cost: 0 }],
		['m_cost_kib above the ceiling (262145)', { m_cost_kib: 262145, t_cost: 3, p_cost: 1 }],
		['t_cost above the ceiling (9)', { m_cost_kib: 65536, t_cost: 9, p_cost: 1 }],
		['p_cost above the ceiling (5)', { m_cost_kib: 65536, t_cost: 3, p_cost: 5 }],
		['a negative m_cost_kib', { m_cost_kib: -1, t_cost: 3, p_cost: 1 }],
		['a fractional t_cost', { m_cost_kib: 65536, t_cost: 3.5, p_cost: 1 }],
		['NaN', { m_cost_kib: Number.NaN, t_cost: 3, p_cost: 1 }],
		['a string', { m_cost_kib: '65536' as unknown as number, t_cost: 3, p_cost: 1 }],
		['a missing field', { m_cost_kib: 65536, t_cost: 3 } as KdfParams]
	])('refuse %s', async (_, params) => {
		expect(await refusal(() => checkKdfParams(params))).toBe('kdf_params_out_of_bounds');
	});

	it('are checked before Argon2id runs: 4 GiB is refused at once, not after seconds of work', async () => {
		const started = performance.now();
		const code = await refusal(deriveKekBytes(utf8('pw', 'test'), new Uint8Array(16), { m_cost_kib: 4 * 1024 * 1024, t_cost: 3, p_cost: 1 }));
		expect(code).toBe('kdf_params_out_of_bounds');
		expect(performance.now() - started).toBeLessThan(1000);
	});

	it.each([15, 17, 0])('refuse a salt of %i bytes before deriving', async (length) => {
		expect(await refusal(deriveKekBytes(utf8('pw', 'test'), new Uint8Array(length), KDF_DEFAULT))).toBe('malformed');
	});
});

describe('the stored kdf object', () => {
	const salt = new Uint8Array(16).fill(0x11);

	it('round-trips Argon2id v1.3 with its salt', () => {
		const stored = storedKdf(KDF_DEFAULT, salt);
		expect(stored).toEqual({ algorithm: 'argon2id', version: 19, salt: b64u(salt), m_cost_kib: 65536, t_cost: 3, p_cost: 1 });
		const parsed = parseStoredKdf(stored);
		expect(parsed.params).toEqual(KDF_DEFAULT);
		expect(hex(parsed.salt)).toBe(hex(salt));
	});

	it.each<[string, Record<string, unknown>, VaultErrorCode]>([
		['another algorithm', { algorithm: 'argon2i' }, 'kdf_params_out_of_bounds'],
		['Argon2 v1.0', { version: 16 }, 'kdf_params_out_of_bounds'],
		['t_cost below the floor', { t_cost: 1 }, 'kdf_params_out_of_bounds'],
		['a salt of 15 bytes', { salt: b64u(new Uint8Array(15)) }, 'malformed'],
		['a padded salt', { salt: b64u(salt) + '==' }, 'malformed'],
		['a standard-alphabet salt', { salt: '+/' + b64u(salt).slice(2) }, 'malformed'],
		['a salt with stray trailing bits', { salt: b64u(salt).slice(0, -1) + 'R' }, 'malformed']
	])('refuses %s', async (_, change, code) => {
		expect(await refusal(() => parseStoredKdf({ ...storedKdf(KDF_DEFAULT, salt), ...change }))).toBe(code);
	});
});
