// The envelope of vault format v1: AES-256-GCM through WebCrypto, `nonce (12) ‖ ciphertext ‖
// tag (16)`, with a random nonce. Randomness is a parameter so the test vectors can fix it.

import { concat, expectLength, type Bytes } from './bytes';
import type { VaultError } from './errors';

export const NONCE_LEN = 12;
export const TAG_LEN = 16;

/** `length` random bytes. */
export type Random = (length: number) => Bytes;

export const systemRandom: Random = (length) => crypto.getRandomValues(new Uint8Array(length));

export function nonceOf(random: Random): Bytes {
	const nonce = random(NONCE_LEN);
	expectLength(nonce, NONCE_LEN, 'a nonce');
	return nonce;
}

export function gcm(nonce: Bytes, aad: Bytes): AesGcmParams {
	return { name: 'AES-GCM', iv: nonce, additionalData: aad, tagLength: TAG_LEN * 8 };
}

/** The envelope of `plain` under `key` (an AES-256-GCM CryptoKey) with associated data `aad`. */
export async function sealEnvelope(key: CryptoKey, plain: Bytes, aad: Bytes, random: Random): Promise<Bytes> {
	const nonce = nonceOf(random);
	const body = new Uint8Array(await crypto.subtle.encrypt(gcm(nonce, aad), key, plain));
	return concat([nonce, body]);
}

/**
 * The plaintext of an envelope (the caller wipes it), or `refusal` thrown when it does not open.
 * The length was checked by the caller, which knows what the envelope holds.
 */
export async function openEnvelope(key: CryptoKey, envelope: Bytes, aad: Bytes, refusal: () => VaultError): Promise<Bytes> {
	try {
		return new Uint8Array(await crypto.subtle.decrypt(gcm(envelope.slice(0, NONCE_LEN), aad), key, envelope.subarray(NONCE_LEN)));
	} catch {
		throw refusal();
	}
}
