// Vault format v1 in the browser (docs/vault.md): what the CLI does to a vault, done here.

export * from './errors';
export { b64u, fromB64u, wipe, type Bytes } from './bytes';
export { normalisePassphrase } from './normalise';
export * from './params';
export { systemRandom, type Random } from './aead';
export {
	credentialKeyBytesForServerTrust,
	deriveCredentialKey,
	deriveVerifier,
	importCredentialKey,
	importKek,
	importVaultKey,
	verifierHash
} from './keys';
export * from './format';
export * from './seal';
export { deriveKek, requestKek, type KdfWorker } from './kdfClient';
