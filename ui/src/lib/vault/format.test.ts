import { describe, expect, it } from 'vitest';

import { b64u, fromB64u, fromHex, hex, utf8, type Bytes } from './bytes';
import {
	aad,
	checkSecret,
	createVault,
	credentialAad,
	openCredential,
	rewrapVaultKey,
	sealCredential,
	unwrapVaultKey,
	wrapVaultKey,
	type Binding
} from './format';
import {
	credentialKeyBytesForServerTrust,
	deriveCredentialKey,
	deriveVerifier,
	importCredentialKey,
	importKek,
	importVaultKey,
	verifierHash
} from './keys';
import { refusal } from './testing/refusal';
import { fixedRandom, flip, vectors, type CredentialVector } from './testing/vectors';

const wrap0 = vectors.wrap[0]!;
const kek = (): Promise<CryptoKey> => importKek(fromHex(wrap0.kek_hex));
const wrapped = (): Bytes => fromB64u(wrap0.wrapped_key, 'wrapped_key');
const OTHER_USER = '00000000-0000-4000-8000-000000000000';

async function verifierOf(vaultKey: CryptoKey): Promise<string> {
	return b64u(await deriveVerifier(vaultKey));
}

describe('aad', () => {
	it('is the purpose label, then each field as a u32 BE length and its bytes', () => {
		expect(hex(aad('x', [new Uint8Array([0xaa]), new Uint8Array(0)]))).toBe(
			hex(utf8('aileron/vault/x/v1', 't')) + '00000001aa' + '00000000'
		);
	});
});

describe('the wrap vector', () => {
	it('has the associated data aad("wrap", user_id)', () => {
		expect(hex(aad('wrap', [utf8(wrap0.user_id, 't')]))).toBe(wrap0.aad_hex);
	});

	it('wraps the vault key to the vector\'s bytes with its nonce', async () => {
		const sealed = await wrapVaultKey(await kek(), fromHex(wrap0.vault_key_hex), wrap0.user_id, fixedRandom(fromHex(wrap0.nonce_hex)));
		expect(sealed.length).toBe(60);
		expect(b64u(sealed)).toBe(wrap0.wrapped_key);
	});

	it('unwraps to a non-exportable HKDF key that derives the vault key\'s credential key and verifier', async () => {
		const derive0 = vectors.derive[0]!;
		expect(derive0.vault_key_hex).toBe(wrap0.vault_key_hex);
		const vaultKey = await unwrapVaultKey(await kek(), wrapped(), wrap0.user_id);
		expect(vaultKey.extractable).toBe(false);
		expect(vaultKey.algorithm.name).toBe('HKDF');
		await expect(crypto.subtle.exportKey('raw', vaultKey)).rejects.toThrow();
		expect(hex(await credentialKeyBytesForServerTrust(vaultKey))).toBe(derive0.credential_key_hex);
		expect(await verifierOf(vaultKey)).toBe(derive0.verifier);
	});

	it.each<[string, () => Promise<[CryptoKey, Bytes, string]>]>([
		['a wrong KEK (wrong passphrase)', async () => [await importKek(flip(fromHex(wrap0.kek_hex), 31)), wrapped(), wrap0.user_id]],
		['another user\'s id', async () => [await kek(), wrapped(), OTHER_USER]],
		['an altered nonce', async () => [await kek(), flip(wrapped(), 0), wrap0.user_id]],
		['an altered key byte', async () => [await kek(), flip(wrapped(), 20), wrap0.user_id]],
		['an altered tag', async () => [await kek(), flip(wrapped(), -1), wrap0.user_id]]
	])('refuses to unwrap with %s, as wrong_passphrase', async (_, inputs) => {
		const [key, bytes, user] = await inputs();
		expect(await refusal(unwrapVaultKey(key, bytes, user))).toBe('wrong_passphrase');
	});

	it.each([59, 61, 0])('refuses a wrapped key of %i bytes as malformed', async (length) => {
		const bytes = new Uint8Array(length);
		bytes.set(wrapped().subarray(0, Math.min(length, 60)));
		expect(await refusal(unwrapVaultKey(await kek(), bytes, wrap0.user_id))).toBe('malformed');
	});

	it.each([31, 33])('refuses to wrap a vault key of %i bytes', async (length) => {
		expect(await refusal(wrapVaultKey(await kek(), new Uint8Array(length), wrap0.user_id))).toBe('malformed');
	});
});

describe('a new vault and a passphrase change', () => {
	it('makes a random vault key, wrapped in 60 bytes with a fresh nonce, that unwraps to the same key', async () => {
		const key = await kek();
		const first = await createVault(key, wrap0.user_id);
		const second = await createVault(key, wrap0.user_id);
		expect(first.wrappedKey.length).toBe(60);
		expect(hex(first.wrappedKey.subarray(0, 12))).not.toBe(hex(second.wrappedKey.subarray(0, 12)));
		expect(first.vaultKey.extractable).toBe(false);
		const opened = await unwrapVaultKey(key, first.wrappedKey, wrap0.user_id);
		expect(await verifierOf(opened)).toBe(await verifierOf(first.vaultKey));
		expect(await verifierOf(opened)).not.toBe(await verifierOf(second.vaultKey));
	});

	it('wipes the random bytes the vault key was made of', async () => {
		const made: Bytes[] = [];
		const random = (length: number): Bytes => {
			const bytes = crypto.getRandomValues(new Uint8Array(length));
			made.push(bytes);
			return bytes;
		};
		await createVault(await kek(), wrap0.user_id, random);
		expect(made[0]!.length).toBe(32);
		expect(made[0]!.every((byte) => byte === 0)).toBe(true);
	});

	it('rewraps the same vault key under a new KEK, which the old one no longer opens', async () => {
		const newKek = await importKek(new Uint8Array(32).fill(7));
		const rewrapped = await rewrapVaultKey(await kek(), newKek, wrapped(), wrap0.user_id);
		const opened = await unwrapVaultKey(newKek, rewrapped, wrap0.user_id);
		expect(await verifierOf(opened)).toBe(vectors.derive[0]!.verifier);
		expect(await refusal(unwrapVaultKey(await kek(), rewrapped, wrap0.user_id))).toBe('wrong_passphrase');
	});

	it('refuses a passphrase change with the wrong current passphrase', async () => {
		const wrong = await importKek(new Uint8Array(32).fill(9));
		expect(await refusal(rewrapVaultKey(wrong, await kek(), wrapped(), wrap0.user_id))).toBe('wrong_passphrase');
	});
});

describe('the derive vectors', () => {
	it.each(vectors.derive.map((v, i) => [i, v] as const))('derive[%i]: credential key, verifier and its SHA-256', async (_, v) => {
		const vaultKey = await importVaultKey(fromHex(v.vault_key_hex));
		expect(hex(await credentialKeyBytesForServerTrust(vaultKey))).toBe(v.credential_key_hex);
		const verifier = await deriveVerifier(vaultKey);
		expect(b64u(verifier)).toBe(v.verifier);
		expect(hex(await verifierHash(verifier))).toBe(v.verifier_sha256_hex);
	});

	it('derives the credential key as a non-exportable AES-GCM key that opens the credential vectors', async () => {
		const c = vectors.credential[0]!;
		const credentialKey = await deriveCredentialKey(await importVaultKey(fromHex(vectors.derive[0]!.vault_key_hex)));
		expect(credentialKey.extractable).toBe(false);
		await expect(crypto.subtle.exportKey('raw', credentialKey)).rejects.toThrow();
		const secret = await openCredential(credentialKey, fromB64u(c.ciphertext, 'ct'), bindingOf(c));
		expect(new TextDecoder().decode(secret)).toBe(c.secret);
	});
});

describe('key imports', () => {
	it.each<[string, (bytes: Bytes) => Promise<CryptoKey>]>([
		['the KEK', importKek],
		['a credential key', importCredentialKey],
		['the vault key', importVaultKey]
	])('%s: wipes the bytes it was given and refuses 31 or 33 bytes', async (_, importer) => {
		const bytes = new Uint8Array(32).fill(0x42);
		const key = await importer(bytes);
		expect(key.extractable).toBe(false);
		expect(bytes.every((byte) => byte === 0)).toBe(true);
		expect(await refusal(importer(new Uint8Array(31)))).toBe('malformed');
		expect(await refusal(importer(new Uint8Array(33)))).toBe('malformed');
	});
});

function bindingOf(v: CredentialVector): Binding {
	return { userId: v.user_id, credentialId: v.credential_id, version: v.version, policy: v.policy };
}

describe.each(vectors.credential.map((v, i) => [i, v] as const))('credential[%i]', (_, v) => {
	const key = (): Promise<CryptoKey> => importCredentialKey(fromHex(v.credential_key_hex));
	const ciphertext = (): Bytes => fromB64u(v.ciphertext, 'ciphertext');
	const binding = bindingOf(v);

	it('binds user, id, version and SHA-256(policy) in its associated data', async () => {
		expect(hex(await crypto.subtle.digest('SHA-256', utf8(v.policy, 't')).then((d) => new Uint8Array(d)))).toBe(v.policy_sha256_hex);
		expect(hex(await credentialAad(binding))).toBe(v.aad_hex);
	});

	it('seals to the vector\'s ciphertext with its nonce, and opens to the secret', async () => {
		const sealed = await sealCredential(await key(), utf8(v.secret, 't'), binding, fixedRandom(fromHex(v.nonce_hex)));
		expect(b64u(sealed)).toBe(v.ciphertext);
		expect(new TextDecoder().decode(await openCredential(await key(), ciphertext(), binding))).toBe(v.secret);
	});

	const policy = JSON.parse(v.policy) as { allow: unknown[] };
	const widened = JSON.stringify({ ...policy, allow: [...policy.allow, { methods: ['GET'], url_prefix: 'https://evil.example/' }] });
	it.each<[string, Partial<Binding>]>([
		['a widened policy', { policy: widened }],
		['the same policy serialised otherwise', { policy: JSON.stringify(policy, null, 1) }],
		['version + 1', { version: v.version + 1 }],
		['version - 1', { version: v.version - 1 }],
		['another credential id', { credentialId: '11111111-2222-4333-8444-555555555555' }],
		['another user id', { userId: OTHER_USER }]
	])('refuses %s as credential_tampered', async (_, change) => {
		expect(await refusal(openCredential(await key(), ciphertext(), { ...binding, ...change }))).toBe('credential_tampered');
	});

	it.each([
		['nonce', 0],
		['body', 12],
		['tag', -1]
	])('refuses an altered %s as credential_tampered', async (_, index) => {
		expect(await refusal(openCredential(await key(), flip(ciphertext(), index), binding))).toBe('credential_tampered');
	});

	it('refuses another vault\'s credential key as credential_tampered', async () => {
		const other = await deriveCredentialKey(await importVaultKey(new Uint8Array(32)));
		expect(await refusal(openCredential(other, ciphertext(), binding))).toBe('credential_tampered');
	});
});

describe('credential inputs', () => {
	const v = vectors.credential[0]!;
	const binding = bindingOf(v);
	const key = (): Promise<CryptoKey> => importCredentialKey(fromHex(v.credential_key_hex));

	it.each<[string, number]>([
		['28 bytes (no secret)', 28],
		['16413 bytes (a secret of 16385)', 16413],
		['5 bytes', 5]
	])('refuses a ciphertext of %s as malformed', async (_, length) => {
		expect(await refusal(openCredential(await key(), new Uint8Array(length), binding))).toBe('malformed');
	});

	it.each<[string, Partial<Binding>]>([
		['an upper-case credential id', { credentialId: v.credential_id.toUpperCase() }],
		['a credential id without hyphens', { credentialId: v.credential_id.replaceAll('-', '') }],
		['version 0', { version: 0 }],
		['version 2^32', { version: 2 ** 32 }],
		['a fractional version', { version: 1.5 }],
		['a user id with a lone surrogate', { userId: 'user\ud800' }]
	])('refuses %s as malformed, sealing and opening', async (_, change) => {
		const changed = { ...binding, ...change };
		expect(await refusal(sealCredential(await key(), utf8('s', 't'), changed))).toBe('malformed');
		expect(await refusal(openCredential(await key(), fromB64u(v.ciphertext, 'ct'), changed))).toBe('malformed');
	});

	it.each<[string, Uint8Array]>([
		['an empty secret', new Uint8Array(0)],
		['a secret of 16385 bytes', new Uint8Array(16385).fill(0x61)],
		['a secret that is not UTF-8', new Uint8Array([0x61, 0xff, 0x62])],
		['a secret with NUL', utf8('abc\u0000', 't')],
		['a secret with a newline', utf8('abc\ndef', 't')],
		['a secret with CR', utf8('abc\r', 't')],
		['a secret with DEL', utf8('abc\u007f', 't')]
	])('refuses to seal %s as invalid_secret', async (_, secret) => {
		expect(await refusal(() => checkSecret(secret))).toBe('invalid_secret');
		expect(await refusal(sealCredential(await key(), secret as Bytes, binding))).toBe('invalid_secret');
	});

	it('seals secrets of 1 and 16384 bytes, with a fresh random nonce each time', async () => {
		const largest = new Uint8Array(16384).fill(0x61);
		const one = await sealCredential(await key(), largest, binding);
		const two = await sealCredential(await key(), largest, binding);
		expect(one.length).toBe(12 + 16384 + 16);
		expect(hex(one.subarray(0, 12))).not.toBe(hex(two.subarray(0, 12)));
		expect((await openCredential(await key(), one, binding)).length).toBe(16384);
		const tiny = await sealCredential(await key(), utf8('x', 't'), binding);
		expect(new TextDecoder().decode(await openCredential(await key(), tiny, binding))).toBe('x');
	});
});

describe('errors', () => {
	it('name the credential but print no secret or key', async () => {
		const c = vectors.credential[0]!;
		const key = await importCredentialKey(fromHex(c.credential_key_hex));
		const error = await openCredential(key, flip(fromB64u(c.ciphertext, 'ct'), -1), bindingOf(c)).catch((e: unknown) => e);
		const printed = `${String(error)} ${JSON.stringify(error)} ${(error as Error).stack ?? ''}`;
		expect(printed).toContain(c.credential_id);
		for (const secret of [c.secret, c.credential_key_hex, c.ciphertext]) expect(printed).not.toContain(secret);
	});
});
