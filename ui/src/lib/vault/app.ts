// The flows wired to the browser: the app's API client (vault calls never wait for the unlock
// dialog), Argon2id in a Web Worker started per derivation and terminated after it (which also
// frees the 64 MiB of WebAssembly memory nothing can wipe), the attestation settings read at run
// time, and the clock.
import { env } from '$env/dynamic/public';
import { api } from '$lib/api';
import { attestEnclave, attestationSetup, type AttestationSetup } from './enclave';
import type { FlowDeps, VaultApi } from './flows';
import { deriveKek } from './kdfClient';

const vaultApi: VaultApi = {
	get: (path) => api.request('GET', path, { unlock: false }),
	post: (path, body) => api.request('POST', path, { body, unlock: false }),
	put: (path, body) => api.request('PUT', path, { body, unlock: false })
};

let setup: AttestationSetup | undefined;

/** PUBLIC_ATTESTATION_POLICY and PUBLIC_ATTESTATION_ROOT, read once. */
export function attestation(): AttestationSetup {
	setup ??= attestationSetup({
		PUBLIC_ATTESTATION_POLICY: env.PUBLIC_ATTESTATION_POLICY,
		PUBLIC_ATTESTATION_ROOT: env.PUBLIC_ATTESTATION_ROOT
	});
	return setup;
}

export const flowDeps: FlowDeps = {
	api: vaultApi,
	async deriveKek(passphrase, salt, params) {
		// Vite emits the worker as its own file under /_app/immutable/workers/ (CSP worker-src 'self').
		const worker = new Worker(new URL('./kdf.worker.ts', import.meta.url), { type: 'module' });
		try {
			return await deriveKek(worker, passphrase, salt, params);
		} finally {
			worker.terminate();
		}
	},
	attest: () =>
		attestEnclave(
			{
				relay: (body) => api.request('POST', '/v1/tee/attestation', { body, unlock: false }),
				nowSeconds: () => Math.floor(Date.now() / 1000)
			},
			attestation()
		),
	now: () => Date.now()
};
