// Argon2id parameters of vault format v1, bounded on every use (docs/vault.md, "1. Passphrase →
// KEK"). Apart from kdf.ts so the main thread can check parameters without loading
// the WebAssembly Argon2 that only the worker needs.

import { b64u, expectLength, fromB64u, type Bytes } from './bytes';
import { VaultError } from './errors';

export interface KdfParams {
	/** Memory in KiB. */
	m_cost_kib: number;
	/** Passes. */
	t_cost: number;
	/** Lanes. */
	p_cost: number;
}

/** The least a client accepts: below it a server would weaken the passphrase. */
export const KDF_FLOOR: Readonly<KdfParams> = Object.freeze({ m_cost_kib: 65536, t_cost: 3, p_cost: 1 });
/** The most a client accepts: above it a server could make the client allocate gigabytes. */
export const KDF_CEILING: Readonly<KdfParams> = Object.freeze({ m_cost_kib: 262144, t_cost: 8, p_cost: 4 });
/** What new vaults use. */
export const KDF_DEFAULT: Readonly<KdfParams> = KDF_FLOOR;

export const SALT_LEN = 16;
export const KEK_LEN = 32;

const FIELDS = ['m_cost_kib', 't_cost', 'p_cost'] as const;

/** The parameters as plain numbers, if each is an integer within the floor and the ceiling. */
export function checkKdfParams(params: KdfParams): KdfParams {
	for (const field of FIELDS) {
		const value: unknown = params[field];
		if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
			throw new VaultError('kdf_params_out_of_bounds', `${field} is not an integer`);
		}
		if (value < KDF_FLOOR[field]) {
			throw new VaultError(
				'kdf_params_out_of_bounds',
				`${field} ${value} is below the floor ${KDF_FLOOR[field]}: a server asking for it weakens your passphrase`
			);
		}
		if (value > KDF_CEILING[field]) {
			throw new VaultError('kdf_params_out_of_bounds', `${field} ${value} is above the ceiling ${KDF_CEILING[field]}`);
		}
	}
	return { m_cost_kib: params.m_cost_kib, t_cost: params.t_cost, p_cost: params.p_cost };
}

/** The `kdf` object of `GET /v1/vault` and `PUT /v1/vault`. */
export interface StoredKdf extends KdfParams {
	algorithm: string;
	version: number;
	/** Unpadded base64url of 16 bytes. */
	salt: string;
}

export const KDF_ALGORITHM = 'argon2id';
/** Argon2 version 0x13. */
export const KDF_VERSION = 19;

/** What the server stores for these parameters and salt. */
export function storedKdf(params: KdfParams, salt: Uint8Array): StoredKdf {
	const { m_cost_kib, t_cost, p_cost } = checkKdfParams(params);
	expectLength(salt, SALT_LEN, 'the salt');
	return { algorithm: KDF_ALGORITHM, version: KDF_VERSION, salt: b64u(salt), m_cost_kib, t_cost, p_cost };
}

/** The parameters and salt of what the server returned, refused unless Argon2id v1.3 in bounds. */
export function parseStoredKdf(kdf: StoredKdf): { params: KdfParams; salt: Bytes } {
	if (kdf.algorithm !== KDF_ALGORITHM || kdf.version !== KDF_VERSION) {
		throw new VaultError('kdf_params_out_of_bounds', `${String(kdf.algorithm)} version ${String(kdf.version)} is not Argon2id v1.3`);
	}
	const params = checkKdfParams(kdf);
	const salt = fromB64u(kdf.salt, 'the salt');
	expectLength(salt, SALT_LEN, 'the salt');
	return { params, salt };
}
