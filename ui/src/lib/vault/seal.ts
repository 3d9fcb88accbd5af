// Escrow (docs/vault.md, "5. Escrow"; DESIGN §4): a secret sealed to the attested enclave's
// HPKE key. RFC 9180 base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM; info
// `aileron/escrow/v1`; associated data the exact scope bytes, which travel with the seal so the
// server cannot change the scope without the seal failing to open. The X25519 KEM is
// @hpke/dhkem-x25519's JavaScript one: WebCrypto X25519 is missing from older browsers.

import { Aes256Gcm, CipherSuite, HkdfSha256 } from '@hpke/core';
import { DhkemX25519HkdfSha256 } from '@hpke/dhkem-x25519';

import { b64u, expectLength, utf8, wipe, type Bytes } from './bytes';
import { VaultError } from './errors';
import { checkSecret, openCredential, type Binding } from './format';

export const ESCROW_INFO = utf8('aileron/escrow/v1', 'the HPKE info');
export const HPKE_PUBLIC_KEY_LEN = 32;

/** The body of `POST /v1/credentials/{name}/escrow` and `POST /v1/escrows` (less the name). */
export interface EscrowRequest {
	/** b64u of the scope's JSON bytes, also the HPKE associated data. */
	scope: string;
	/** b64u of the HPKE encapsulated key (32 bytes). */
	enc: string;
	/** b64u of the HPKE ciphertext of the secret (its length + 16). */
	ciphertext: string;
}

export function escrowSuite(): CipherSuite {
	return new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
}

/** Seals `secret` to the enclave's raw X25519 public key with `scope` as associated data. */
export async function sealToEnclave(recipientPublicKey: Bytes, secret: Bytes, scope: Bytes): Promise<EscrowRequest> {
	expectLength(recipientPublicKey, HPKE_PUBLIC_KEY_LEN, "the enclave's HPKE public key");
	const suite = escrowSuite();
	try {
		const recipient = await suite.kem.deserializePublicKey(recipientPublicKey);
		const sealed = await suite.seal({ recipientPublicKey: recipient, info: ESCROW_INFO }, secret, scope);
		return { scope: b64u(scope), enc: b64u(new Uint8Array(sealed.enc)), ciphertext: b64u(new Uint8Array(sealed.ct)) };
	} catch (error) {
		throw new VaultError('seal_failed', `HPKE refused to seal to this key (${(error as Error).name})`);
	}
}

/** RFC 3339 in whole seconds, UTC, as the Rust side writes it (`2030-01-01T00:00:00Z`). */
export function rfc3339(at: Date): string {
	if (Number.isNaN(at.getTime())) throw new VaultError('malformed', 'an expiry is not a date');
	return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The scope sealed with a vault credential: the policy's `allow`, `inject` (whole, `username`
 * included) and `max_uses` (left out when the policy has none), and `expires_at`. The server
 * checks it against the stored policy.
 */
export function escrowScope(policy: string, expiresAt: Date): Bytes {
	let parsed: unknown;
	try {
		parsed = JSON.parse(policy);
	} catch {
		throw new VaultError('malformed', 'the policy is not JSON');
	}
	if (!isObject(parsed) || !Array.isArray(parsed.allow) || !isObject(parsed.inject)) {
		throw new VaultError('malformed', 'the policy has no allow list or inject object');
	}
	const scope: Record<string, unknown> = { allow: parsed.allow, inject: parsed.inject, expires_at: rfc3339(expiresAt) };
	if (parsed.max_uses !== undefined && parsed.max_uses !== null) scope.max_uses = parsed.max_uses;
	return utf8(JSON.stringify(scope), 'the scope');
}

function isObject(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * What unlocking does for one credential: opens it (refused if the server altered it), seals its
 * secret to the attested enclave with the policy's scope, and wipes the secret.
 */
export async function escrowCredential(
	credentialKey: CryptoKey,
	ciphertext: Bytes,
	binding: Binding,
	enclavePublicKey: Bytes,
	expiresAt: Date
): Promise<EscrowRequest> {
	const scope = escrowScope(binding.policy, expiresAt);
	const secret = await openCredential(credentialKey, ciphertext, binding);
	try {
		checkSecret(secret);
		return await sealToEnclave(enclavePublicKey, secret, scope);
	} finally {
		wipe(secret);
	}
}
