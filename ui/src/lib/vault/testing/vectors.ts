// The vault format's test vectors (sdk/vectors/vault-v1.json), read by path: VAULT_VECTORS, else
// the repository's copy when this file sits in ui/src/lib/vault/testing/, else the main work
// tree's. Tests only.

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { fromHex, type Bytes } from '../bytes';
import type { KdfParams } from '../params';

const IN_REPOSITORY = fileURLToPath(new URL('../../../../../sdk/vectors/vault-v1.json', import.meta.url));

export const VECTORS_PATH =
	process.env.VAULT_VECTORS ?? (existsSync(IN_REPOSITORY) ? IN_REPOSITORY : '/work/main/sdk/vectors/vault-v1.json');

export interface KdfVector extends KdfParams {
	passphrase: string;
	passphrase_utf8_hex: string;
	salt: string;
	kek_hex: string;
}

export interface WrapVector {
	kek_hex: string;
	vault_key_hex: string;
	user_id: string;
	nonce_hex: string;
	aad_hex: string;
	wrapped_key: string;
}

export interface DeriveVector {
	vault_key_hex: string;
	credential_key_hex: string;
	verifier: string;
	verifier_sha256_hex: string;
}

export interface CredentialVector {
	credential_key_hex: string;
	user_id: string;
	credential_id: string;
	version: number;
	policy: string;
	policy_sha256_hex: string;
	aad_hex: string;
	nonce_hex: string;
	secret: string;
	ciphertext: string;
}

export interface EscrowVector {
	recipient_private_key: string;
	recipient_public_key: string;
	info: string;
	scope: string;
	scope_json: string;
	enc: string;
	ciphertext: string;
	secret: string;
}

export interface Vectors {
	format: number;
	parameters: { floor: KdfParams; ceiling: KdfParams; default: KdfParams };
	kdf: KdfVector[];
	wrap: WrapVector[];
	derive: DeriveVector[];
	credential: CredentialVector[];
	escrow_seal: EscrowVector[];
}

export const vectors: Vectors = JSON.parse(readFileSync(VECTORS_PATH, 'utf8')) as Vectors;

/** A Random that returns `bytes` once (a vector's fixed nonce), then refuses to be reused. */
export function fixedRandom(...outputs: Bytes[]): (length: number) => Bytes {
	return (length) => {
		const next = outputs.shift();
		if (next === undefined || next.length !== length) throw new Error(`no fixed output of ${length} bytes left`);
		return next;
	};
}


/** A copy with one bit flipped at `index` (negative counts from the end). */
export function flip(bytes: Uint8Array, index: number): Bytes {
	const out = new Uint8Array(bytes);
	const at = index < 0 ? out.length + index : index;
	out[at] = (out[at] ?? 0) ^ 0x01;
	return out;
}
