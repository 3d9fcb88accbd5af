// The keys of vault format v1 as WebCrypto keys that cannot be exported (docs/vault.md, "2." and
// "3."): the KEK and the credential key are AES-256-GCM keys, the vault key an HKDF base key.
// Raw bytes exist only where the format or the server needs them (the verifier, and the
// credential key handed over in server-trust mode), and every importer wipes what it was given.

import { expectLength, utf8, wipe, type Bytes } from './bytes';

export const KEY_LEN = 32;
/** HKDF-SHA256 salt of every key derived from the vault key. */
const HKDF_SALT = utf8('aileron/vault/v1', 'the HKDF salt');

type AesUsage = 'encrypt' | 'decrypt' | 'unwrapKey';
/** The vault key only derives: the credential key and the verifier. */
export const VAULT_KEY_USAGES: KeyUsage[] = ['deriveBits', 'deriveKey'];

async function importAes(bytes: Bytes, what: string, usages: AesUsage[]): Promise<CryptoKey> {
	try {
		expectLength(bytes, KEY_LEN, what);
		return await crypto.subtle.importKey('raw', bytes, { name: 'AES-GCM' }, false, usages);
	} finally {
		wipe(bytes);
	}
}

/** The KEK from its bytes (kdf.ts's output), which this wipes. */
export function importKek(bytes: Bytes): Promise<CryptoKey> {
	return importAes(bytes, 'the KEK', ['encrypt', 'decrypt', 'unwrapKey']);
}

/** A credential key from its bytes, which this wipes. */
export function importCredentialKey(bytes: Bytes): Promise<CryptoKey> {
	return importAes(bytes, 'the credential key', ['encrypt', 'decrypt']);
}

/** The vault key as an HKDF base key from its bytes, which this wipes. */
export async function importVaultKey(bytes: Bytes): Promise<CryptoKey> {
	try {
		expectLength(bytes, KEY_LEN, 'the vault key');
		return await crypto.subtle.importKey('raw', bytes, 'HKDF', false, VAULT_KEY_USAGES);
	} finally {
		wipe(bytes);
	}
}


function hkdf(label: string): HkdfParams {
	return { name: 'HKDF', hash: 'SHA-256', salt: HKDF_SALT, info: utf8(label, 'an HKDF label') };
}

/** `HKDF(vault_key, label)`: 32 bytes, which the caller wipes. */
async function deriveBytes(vaultKey: CryptoKey, label: string): Promise<Bytes> {
	return new Uint8Array(await crypto.subtle.deriveBits(hkdf(label), vaultKey, KEY_LEN * 8));
}

/** The key credentials are encrypted under, never leaving WebCrypto. */
export function deriveCredentialKey(vaultKey: CryptoKey): Promise<CryptoKey> {
	return crypto.subtle.deriveKey(hkdf('credential-key'), vaultKey, { name: 'AES-GCM', length: 256 }, false, [
		'encrypt',
		'decrypt'
	]);
}

/**
 * The credential key's bytes, for server-trust mode only (`POST /v1/vault/session` hands them to
 * the server, which can then read every credential). The caller wipes them once sent.
 */
export function credentialKeyBytesForServerTrust(vaultKey: CryptoKey): Promise<Bytes> {
	return deriveBytes(vaultKey, 'credential-key');
}

/** The verifier: proof of the vault key the server checks against its SHA-256. Wipe when sent. */
export function deriveVerifier(vaultKey: CryptoKey): Promise<Bytes> {
	return deriveBytes(vaultKey, 'verifier');
}

export async function sha256(bytes: Bytes): Promise<Bytes> {
	return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
}

/** What the server stores of the verifier. */
export function verifierHash(verifier: Bytes): Promise<Bytes> {
	return sha256(verifier);
}
