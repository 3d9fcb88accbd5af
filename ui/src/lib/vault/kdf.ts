// Passphrase → KEK (docs/vault.md, "1. Passphrase → KEK"): Argon2id v0x13 over UTF-8 of the NFC
// passphrase, a 16-byte salt, bounded parameters, 32 bytes out, no secret key, no associated
// data. One awaited WebAssembly run (about 0.3 s at the default parameters), so the
// UI calls it from kdf.worker.ts and the page stays responsive.

import { argon2id } from 'hash-wasm';

import { expectLength, wipe, type Bytes } from './bytes';
import { checkKdfParams, KEK_LEN, SALT_LEN, type KdfParams } from './params';

/**
 * The KEK's bytes from the normalised passphrase (see normalisePassphrase). The parameters are
 * checked before anything is allocated. The caller wipes both the passphrase and the result.
 */
export async function deriveKekBytes(passphrase: Bytes, salt: Bytes, params: KdfParams): Promise<Bytes> {
	const { m_cost_kib, t_cost, p_cost } = checkKdfParams(params);
	expectLength(salt, SALT_LEN, 'the salt');
	const out = await argon2id({
		password: passphrase,
		salt,
		memorySize: m_cost_kib,
		iterations: t_cost,
		parallelism: p_cost,
		hashLength: KEK_LEN,
		outputType: 'binary'
	});
	// A fresh buffer of exactly 32 bytes that the caller owns (and may transfer to a page).
	const kek = new Uint8Array(KEK_LEN);
	kek.set(out);
	wipe(out);
	return kek;
}

/** A fresh random salt for a new vault or a new passphrase. */
export function newSalt(): Bytes {
	return crypto.getRandomValues(new Uint8Array(SALT_LEN));
}
