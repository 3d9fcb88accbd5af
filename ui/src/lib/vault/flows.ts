// What the CLI does to a vault (sdk/src/vault/client.rs), step for step, in the page: make a
// vault, open it here, add or rotate a credential encrypted here, escrow credentials into the
// attested enclave, change the passphrase, and the server-trust session. The server sees
// ciphertext, the wrapped key, the verifier, and, in server-trust mode only, after the page has
// said so, the credential key. The API, the key derivation and the clock are parameters, so the
// flows run in tests against a fake server.
import type { Credential, VaultInfo } from '$lib/api/types';
import { systemRandom, type Random } from './aead';
import { b64u, fromB64u, utf8, wipe, type Bytes } from './bytes';
import { VaultError } from './errors';
import { createVault, FORMAT, openCredential, rewrapVaultKey, sealCredential, unwrapVaultKey, type Binding } from './format';
import type { OpenedVault } from './holder.svelte';
import { credentialKeyBytesForServerTrust, deriveCredentialKey, deriveVerifier } from './keys';
import { KDF_DEFAULT, parseStoredKdf, SALT_LEN, storedKdf, type KdfParams } from './params';
import { escrowCredential, type EscrowRequest } from './seal';

/** The API calls the flows make; none of them may wait for the unlock dialog. */
export interface VaultApi {
	get<T>(path: string): Promise<T>;
	post<T>(path: string, body?: unknown): Promise<T>;
	put<T>(path: string, body: unknown): Promise<T>;
}

export interface FlowDeps {
	api: VaultApi;
	/** Argon2id in the Web Worker: the KEK as a non-extractable key. */
	deriveKek: (passphrase: string, salt: Bytes, params: KdfParams) => Promise<CryptoKey>;
	/** The enclave's attested HPKE public key (attestEnclave), or AttestationRefused. */
	attest: () => Promise<Bytes>;
	/** Milliseconds since the epoch. */
	now: () => number;
	random?: Random;
}

/** A credential that could not be escrowed, and why (for people). */
export interface Failure {
	name: string;
	reason: string;
}

export interface UnlockReport {
	trust: 'enclave' | 'server';
	escrowed: number;
	failures: Failure[];
	/** When the escrows or the server-trust session end, in seconds since the epoch. */
	until: number;
}

const segment = (name: string) => encodeURIComponent(name);

/** `GET /v1/vault`, refused unless it is a vault of a format this page knows. */
async function vaultInfo(api: VaultApi): Promise<VaultInfo> {
	const info = await api.get<VaultInfo>('/v1/vault');
	if (info.format !== FORMAT) throw new VaultError('malformed', `vault format ${info.format} is not one this page knows`);
	return info;
}

/** A vault for `userId` under `passphrase` (the caller checked its strength), opened here. */
export async function setUpVault(deps: FlowDeps, userId: string, passphrase: string): Promise<OpenedVault> {
	const random = deps.random ?? systemRandom;
	const salt = random(SALT_LEN);
	const kek = await deps.deriveKek(passphrase, salt, KDF_DEFAULT);
	const { wrappedKey, vaultKey } = await createVault(kek, userId, random);
	const verifier = await deriveVerifier(vaultKey);
	try {
		await deps.api.put('/v1/vault', {
			format: FORMAT,
			kdf: storedKdf(KDF_DEFAULT, salt),
			wrapped_key: b64u(wrappedKey),
			verifier: b64u(verifier)
		});
	} finally {
		wipe(verifier);
	}
	const info = await vaultInfo(deps.api);
	return { userId, vaultKey, credentialKey: await deriveCredentialKey(vaultKey), info };
}

/**
 * Opens the vault with `passphrase`, here: a wrong one is known from `GET /v1/vault` alone
 * (VaultError `wrong_passphrase`), with no other call to the server.
 */
export async function openVault(deps: FlowDeps, userId: string, passphrase: string): Promise<OpenedVault> {
	const info = await vaultInfo(deps.api);
	const { params, salt } = parseStoredKdf(info.kdf);
	const wrapped = fromB64u(info.wrapped_key, 'the wrapped key');
	const kek = await deps.deriveKek(passphrase, salt, params);
	const vaultKey = await unwrapVaultKey(kek, wrapped, userId);
	return { userId, vaultKey, credentialKey: await deriveCredentialKey(vaultKey), info };
}

function bindingOf(opened: OpenedVault, stored: Credential): Binding {
	return { userId: opened.userId, credentialId: stored.id, version: stored.version, policy: stored.policy };
}

/** Checks that `stored` opens with its binding (the server changed nothing), then wipes it. */
async function checkStored(opened: OpenedVault, stored: Credential): Promise<void> {
	const secret = await openCredential(opened.credentialKey, fromB64u(stored.ciphertext, 'a ciphertext'), bindingOf(opened, stored));
	wipe(secret);
}

/** Seals one checked credential to the enclave and registers the escrow. */
async function escrowStored(deps: FlowDeps, opened: OpenedVault, stored: Credential, enclaveKey: Bytes, expiresAt: Date): Promise<void> {
	const body: EscrowRequest = await escrowCredential(
		opened.credentialKey,
		fromB64u(stored.ciphertext, 'a ciphertext'),
		bindingOf(opened, stored),
		enclaveKey,
		expiresAt
	);
	await deps.api.post(`/v1/credentials/${segment(stored.name)}/escrow`, body);
}

function reasonOf(error: unknown): string {
	if (error instanceof VaultError && error.code === 'credential_tampered') {
		return 'it does not open with its rules: the server changed its policy, version or ciphertext, so it was not escrowed';
	}
	return error instanceof Error ? error.message : String(error);
}

/**
 * Unlocks with an enclave: attests it once, then for each credential opens it (refused when the
 * server altered it), seals its secret to the attested key with the policy's scope, and
 * registers the escrow. One credential failing does not stop the others; an attestation that
 * does not pass stops everything before anything is sealed.
 */
export async function unlockWithEnclave(deps: FlowDeps, opened: OpenedVault): Promise<UnlockReport> {
	const credentials = await deps.api.get<Credential[]>('/v1/credentials');
	const enclaveKey = await deps.attest();
	const expiresAt = new Date(Math.floor(deps.now() / 1000) * 1000 + opened.info.escrow_ttl_secs * 1000);
	// A few at a time: each escrow is a round trip through the server to the enclave, and one
	// after another they made most of an unlock's time (20 credentials: 0.8 s of 1.3 s).
	const outcomes = await eachAtMost(ESCROWS_AT_ONCE, credentials, (stored) =>
		escrowStored(deps, opened, stored, enclaveKey, expiresAt).then(
			(): Failure | undefined => undefined,
			(error: unknown): Failure => ({ name: stored.name, reason: reasonOf(error) })
		)
	);
	const failures = outcomes.filter((f): f is Failure => f !== undefined);
	const escrowed = credentials.length - failures.length;
	return { trust: 'enclave', escrowed, failures, until: expiresAt.getTime() / 1000 };
}

/** How many escrows an unlock sends at once. */
export const ESCROWS_AT_ONCE = 4;

/** `work` on every item, at most `limit` at once; the results in the items' order. */
export async function eachAtMost<T, R>(limit: number, items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
	const results = new Array<R>(items.length);
	let next = 0;
	const worker = async (): Promise<void> => {
		while (next < items.length) {
			const index = next++;
			results[index] = await work(items[index]!);
		}
	};
	await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
	return results;
}

/**
 * Server-trust mode (no enclave): checks every credential, then hands the server the credential
 * key (never the passphrase or the vault key) for its session. Call it only after the page has
 * said what this means and the person agreed. One altered credential stops it, as in the CLI.
 */
export async function unlockWithServerTrust(deps: FlowDeps, opened: OpenedVault): Promise<UnlockReport> {
	const credentials = await deps.api.get<Credential[]>('/v1/credentials');
	for (const stored of credentials) {
		try {
			await checkStored(opened, stored);
		} catch (error) {
			throw new VaultError('credential_tampered', `${stored.name}: ${reasonOf(error)}`);
		}
	}
	const verifier = await deriveVerifier(opened.vaultKey);
	const key = await credentialKeyBytesForServerTrust(opened.vaultKey);
	try {
		const answer = await deps.api.post<{ expires_at: number }>('/v1/vault/session', {
			verifier: b64u(verifier),
			credential_key: b64u(key)
		});
		return { trust: 'server', escrowed: 0, failures: [], until: answer.expires_at };
	} finally {
		wipe(verifier, key);
	}
}

/** Encrypts `secret` here and stores the credential (version 1 under a fresh id). */
export async function addCredential(
	deps: FlowDeps,
	opened: OpenedVault,
	name: string,
	policy: string,
	secret: string
): Promise<Credential> {
	const id = crypto.randomUUID();
	const bytes = utf8(secret, 'the secret');
	try {
		const binding = { userId: opened.userId, credentialId: id, version: 1, policy };
		const ciphertext = await sealCredential(opened.credentialKey, bytes, binding, deps.random);
		return await deps.api.post<Credential>('/v1/credentials', { id, name, policy, ciphertext: b64u(ciphertext) });
	} finally {
		wipe(bytes);
	}
}

/**
 * A new secret for `stored`, under its policy, at the next version. The stored credential is
 * opened first: its policy is the one its owner sealed, not one the server swapped in.
 */
export async function rotateSecret(deps: FlowDeps, opened: OpenedVault, stored: Credential, secret: string): Promise<Credential> {
	await checkStored(opened, stored);
	const version = stored.version + 1;
	const bytes = utf8(secret, 'the secret');
	try {
		const binding = { userId: opened.userId, credentialId: stored.id, version, policy: stored.policy };
		const ciphertext = await sealCredential(opened.credentialKey, bytes, binding, deps.random);
		return await deps.api.put<Credential>(`/v1/credentials/${segment(stored.name)}`, {
			version,
			policy: stored.policy,
			ciphertext: b64u(ciphertext)
		});
	} finally {
		wipe(bytes);
	}
}

/** Escrows one credential (just added or rotated) into the attested enclave. */
export async function escrowOne(deps: FlowDeps, opened: OpenedVault, stored: Credential): Promise<UnlockReport> {
	const enclaveKey = await deps.attest();
	const expiresAt = new Date(Math.floor(deps.now() / 1000) * 1000 + opened.info.escrow_ttl_secs * 1000);
	await escrowStored(deps, opened, stored, enclaveKey, expiresAt);
	return { trust: 'enclave', escrowed: 1, failures: [], until: expiresAt.getTime() / 1000 };
}

/**
 * A new passphrase: the current one opens the vault key here (a wrong one is refused before any
 * change), which is wrapped anew under the new one with a fresh salt. The old passphrase stops
 * working. Returns the vault opened under the new wrap.
 */
export async function changePassphrase(deps: FlowDeps, userId: string, current: string, next: string): Promise<OpenedVault> {
	const random = deps.random ?? systemRandom;
	const info = await vaultInfo(deps.api);
	const { params, salt } = parseStoredKdf(info.kdf);
	const wrapped = fromB64u(info.wrapped_key, 'the wrapped key');
	const oldKek = await deps.deriveKek(current, salt, params);
	const vaultKey = await unwrapVaultKey(oldKek, wrapped, userId);
	const newSalt = random(SALT_LEN);
	const newKek = await deps.deriveKek(next, newSalt, KDF_DEFAULT);
	const rewrapped = await rewrapVaultKey(oldKek, newKek, wrapped, userId, random);
	const verifier = await deriveVerifier(vaultKey);
	try {
		await deps.api.post('/v1/vault/passphrase', {
			verifier: b64u(verifier),
			kdf: storedKdf(KDF_DEFAULT, newSalt),
			wrapped_key: b64u(rewrapped)
		});
	} finally {
		wipe(verifier);
	}
	return { userId, vaultKey, credentialKey: await deriveCredentialKey(vaultKey), info: await vaultInfo(deps.api) };
}
