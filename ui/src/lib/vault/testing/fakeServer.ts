// A fake Aileron server for the vault flows' tests: what it stores, and every call it received
// (to show what the server sees). Tests only.
import type { Credential, VaultInfo } from '$lib/api/types';
import { ApiError } from '$lib/api/errors';
import type { VaultApi } from '../flows';

export interface Call {
	method: string;
	path: string;
	body?: unknown;
}

type Stored = Omit<VaultInfo, 'trust' | 'escrow_ttl_secs' | 'session_ttl_secs' | 'unlocked_until'> & { verifier: string };

export class FakeServer implements VaultApi {
	calls: Call[] = [];
	vault: Stored | undefined;
	credentials: Credential[] = [];
	escrows = new Map<string, { scope: string; enc: string; ciphertext: string }>();
	session: { credential_key: string } | undefined;
	/** Names whose escrow the server refuses. */
	refuseEscrow = new Set<string>();

	constructor(readonly trust: 'enclave' | 'server' = 'enclave') {}

	async get<T>(path: string): Promise<T> {
		this.calls.push({ method: 'GET', path });
		if (path === '/v1/vault') {
			if (!this.vault) throw apiError(409, 'vault_not_set');
			const { verifier: _, ...rest } = this.vault;
			return { ...rest, trust: this.trust, escrow_ttl_secs: 3600, session_ttl_secs: 7200, unlocked_until: null } as T;
		}
		if (path === '/v1/credentials') return structuredClone(this.credentials) as T;
		throw apiError(404, 'not_found');
	}

	async put<T>(path: string, body: unknown): Promise<T> {
		this.calls.push({ method: 'PUT', path, body });
		if (path === '/v1/vault') {
			this.vault = structuredClone(body) as Stored;
			return undefined as T;
		}
		const name = credentialName(path);
		const stored = this.credentials.find((c) => c.name === name);
		if (!stored) throw apiError(404, 'not_found');
		const update = body as { version: number; policy: string; ciphertext: string };
		if (update.version !== stored.version + 1) throw apiError(409, 'version_conflict');
		Object.assign(stored, update);
		this.escrows.delete(name!);
		return structuredClone(stored) as T;
	}

	async post<T>(path: string, body?: unknown): Promise<T> {
		this.calls.push({ method: 'POST', path, body });
		if (path === '/v1/vault/passphrase') {
			const { verifier, kdf, wrapped_key } = body as Stored;
			if (!this.vault || verifier !== this.vault.verifier) throw apiError(403, 'invalid_verifier');
			Object.assign(this.vault, { kdf, wrapped_key });
			return undefined as T;
		}
		if (path === '/v1/vault/session') {
			if (this.trust !== 'server') throw apiError(409, 'server_trust_disabled');
			this.session = body as { credential_key: string };
			return { expires_at: 2_000_000_000, trust: 'server' } as T;
		}
		if (path === '/v1/credentials') {
			const added = body as { id: string; name: string; policy: string; ciphertext: string };
			const stored = { ...added, version: 1, kind: JSON.parse(added.policy).kind, uses: 0, created_at: 1, updated_at: 1, escrow: null };
			this.credentials.push(stored);
			return structuredClone(stored) as T;
		}
		const escrowOf = /^\/v1\/credentials\/([^/]+)\/escrow$/.exec(path);
		if (escrowOf) {
			const name = decodeURIComponent(escrowOf[1]!);
			if (this.refuseEscrow.has(name)) throw apiError(400, 'invalid_scope');
			this.escrows.set(name, body as { scope: string; enc: string; ciphertext: string });
			return { escrow_id: `e-${name}`, expires_at: 1, boot_id: 'b', name, status: 'active' } as T;
		}
		throw apiError(404, 'not_found');
	}
}

function credentialName(path: string): string | undefined {
	const match = /^\/v1\/credentials\/([^/]+)$/.exec(path);
	return match ? decodeURIComponent(match[1]!) : undefined;
}

function apiError(status: number, code: string): ApiError {
	return new ApiError({ status, code, message: code });
}
