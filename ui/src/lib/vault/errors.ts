// The one error the vault code throws. `code` is stable (the UI maps it to words and tests
// assert it); `message` is for people and never holds a secret, a key or a passphrase.

export type VaultErrorCode =
	/** Argon2id parameters below the floor or above the ceiling (a hostile or broken server). */
	| 'kdf_params_out_of_bounds'
	/** The wrapped vault key does not open: a wrong passphrase, another user's key, or altered. */
	| 'wrong_passphrase'
	/** A credential does not open with its binding: ciphertext, policy, version or id changed. */
	| 'credential_tampered'
	/** Bytes of the wrong length or encoding (a salt, a key, an envelope, base64url, UTF-16). */
	| 'malformed'
	/** A secret the format cannot hold: empty, over 16384 bytes, not UTF-8, or with controls. */
	| 'invalid_secret'
	/** HPKE refused to seal (a public key it cannot use). */
	| 'seal_failed'
	/** The key-derivation worker failed or was stopped before answering. */
	| 'kdf_failed';

export class VaultError extends Error {
	override readonly name = 'VaultError';

	constructor(
		readonly code: VaultErrorCode,
		message: string
	) {
		super(message);
	}
}

export function isVaultError(error: unknown, code?: VaultErrorCode): error is VaultError {
	return error instanceof VaultError && (code === undefined || error.code === code);
}
