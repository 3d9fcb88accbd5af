// Vault format v1 (docs/vault.md, "Vault format v1"): the wrap of the vault key under the KEK,
// and credential ciphertexts bound to their owner, id, version and policy.
//
// - `aad(purpose, fields)` = "aileron/vault/<purpose>/v1", then each field as a u32 BE length
//   and its bytes.
// - `wrapped_key` = envelope of the vault key under the KEK, aad("wrap", user_id): 60 bytes.
// - `ciphertext` = envelope of the secret under the credential key, aad("credential", user_id,
//   id, version as u32 BE, SHA-256(policy bytes)).

import { concat, expectLength, utf8, wipe, type Bytes } from './bytes';
import { gcm, NONCE_LEN, openEnvelope, sealEnvelope, systemRandom, TAG_LEN, type Random } from './aead';
import { VaultError } from './errors';
import { importVaultKey, KEY_LEN, sha256, VAULT_KEY_USAGES } from './keys';

export const FORMAT = 1;
/** A wrapped vault key: nonce, 32 bytes, tag. */
export const WRAPPED_KEY_LEN = NONCE_LEN + KEY_LEN + TAG_LEN;
/** The largest secret a credential holds, in UTF-8 bytes. */
export const MAX_SECRET_LEN = 16384;
const MAX_VERSION = 0xffff_ffff;
const CREDENTIAL_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Unambiguous associated data: a purpose label, then length-prefixed fields. */
export function aad(purpose: string, fields: Uint8Array[]): Bytes {
	const parts: Uint8Array[] = [utf8(`aileron/vault/${purpose}/v1`, 'a purpose')];
	for (const field of fields) parts.push(u32(field.length), field);
	return concat(parts);
}

function u32(value: number): Bytes {
	const out = new Uint8Array(4);
	new DataView(out.buffer).setUint32(0, value, false);
	return out;
}

function wrapAad(userId: string): Bytes {
	return aad('wrap', [utf8(userId, 'the user id')]);
}

// ---- 2. the vault key ------------------------------------------------------------------------

/** The envelope of the vault key's bytes under the KEK for `userId`. */
export async function wrapVaultKey(kek: CryptoKey, vaultKey: Bytes, userId: string, random: Random = systemRandom): Promise<Bytes> {
	expectLength(vaultKey, KEY_LEN, 'the vault key');
	return sealEnvelope(kek, vaultKey, wrapAad(userId), random);
}

/**
 * The vault key as a non-exportable HKDF key: WebCrypto unwraps it without its bytes ever
 * reaching JavaScript. A wrong passphrase, another user's key and an altered one fail alike.
 */
export async function unwrapVaultKey(kek: CryptoKey, wrapped: Bytes, userId: string): Promise<CryptoKey> {
	expectLength(wrapped, WRAPPED_KEY_LEN, 'the wrapped key');
	const params = gcm(wrapped.slice(0, NONCE_LEN), wrapAad(userId));
	try {
		return await crypto.subtle.unwrapKey('raw', wrapped.subarray(NONCE_LEN), kek, params, 'HKDF', false, VAULT_KEY_USAGES);
	} catch {
		throw wrongPassphrase();
	}
}

function wrongPassphrase(): VaultError {
	return new VaultError('wrong_passphrase', 'the passphrase does not open this vault (or the server changed what it stores)');
}

/** A new vault: a random vault key, wrapped under the KEK, and kept as a non-exportable key. */
export async function createVault(
	kek: CryptoKey,
	userId: string,
	random: Random = systemRandom
): Promise<{ wrappedKey: Bytes; vaultKey: CryptoKey }> {
	const bytes = random(KEY_LEN);
	try {
		const wrappedKey = await wrapVaultKey(kek, bytes, userId, random);
		return { wrappedKey, vaultKey: await importVaultKey(bytes) };
	} finally {
		wipe(bytes);
	}
}

/** A passphrase change: the same vault key, wrapped anew under the new KEK. */
export async function rewrapVaultKey(
	oldKek: CryptoKey,
	newKek: CryptoKey,
	wrapped: Bytes,
	userId: string,
	random: Random = systemRandom
): Promise<Bytes> {
	expectLength(wrapped, WRAPPED_KEY_LEN, 'the wrapped key');
	const vaultKey = await openEnvelope(oldKek, wrapped, wrapAad(userId), wrongPassphrase);
	try {
		return await wrapVaultKey(newKek, vaultKey, userId, random);
	} finally {
		wipe(vaultKey);
	}
}

// ---- 4. a credential -------------------------------------------------------------------------

/** What a credential's ciphertext is bound to. */
export interface Binding {
	/** The owner's id, as `GET /v1/users/me` gives it. */
	userId: string;
	/** The credential's id: a UUID in 36 lower-case hyphenated characters. */
	credentialId: string;
	/** 1, then one more at every change. */
	version: number;
	/** The policy exactly as the server stores and returns it. */
	policy: string;
}

/** The associated data of a credential. */
export async function credentialAad(binding: Binding): Promise<Bytes> {
	const { userId, credentialId, version, policy } = binding;
	if (!CREDENTIAL_ID.test(credentialId)) {
		throw new VaultError('malformed', 'a credential id must be a UUID in 36 lower-case hyphenated characters');
	}
	if (!Number.isInteger(version) || version < 1 || version > MAX_VERSION) {
		throw new VaultError('malformed', 'a credential version is an integer from 1 to 4294967295');
	}
	const policyHash = await sha256(utf8(policy, 'the policy'));
	return aad('credential', [utf8(userId, 'the user id'), utf8(credentialId, 'the credential id'), u32(version), policyHash]);
}

/**
 * Refuses a secret the format cannot hold: UTF-8 of 1 to 16384 bytes without ASCII control
 * characters (0x00–0x1F, 0x7F); it goes into an HTTP header.
 */
export function checkSecret(secret: Uint8Array): void {
	if (secret.length < 1 || secret.length > MAX_SECRET_LEN) {
		throw new VaultError('invalid_secret', `the secret must be 1 to ${MAX_SECRET_LEN} bytes`);
	}
	try {
		new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(secret);
	} catch {
		throw new VaultError('invalid_secret', 'the secret is not UTF-8 text');
	}
	if (secret.some((byte) => byte < 0x20 || byte === 0x7f)) {
		throw new VaultError('invalid_secret', 'the secret has control characters (CR, LF…): it cannot be sent in a header');
	}
}

/** A credential's ciphertext. The caller wipes `secret`. */
export async function sealCredential(
	credentialKey: CryptoKey,
	secret: Bytes,
	binding: Binding,
	random: Random = systemRandom
): Promise<Bytes> {
	checkSecret(secret);
	return sealEnvelope(credentialKey, secret, await credentialAad(binding), random);
}

/** A credential's secret (the caller wipes it), refused unless its binding holds. */
export async function openCredential(credentialKey: CryptoKey, ciphertext: Bytes, binding: Binding): Promise<Bytes> {
	const length = ciphertext.length - NONCE_LEN - TAG_LEN;
	if (length < 1 || length > MAX_SECRET_LEN) {
		throw new VaultError('malformed', 'a credential ciphertext holds 1 to 16384 bytes besides its nonce and tag');
	}
	return openEnvelope(credentialKey, ciphertext, await credentialAad(binding), () => tampered(binding));
}

function tampered(binding: Binding): VaultError {
	return new VaultError(
		'credential_tampered',
		`credential ${binding.credentialId} was altered by the server (its policy, ciphertext or identity no longer match what you sealed)`
	);
}
