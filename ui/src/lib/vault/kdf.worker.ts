// The Web Worker that runs Argon2id off the page's thread. It receives the normalised
// passphrase's bytes (transferred, so the page keeps no copy), the salt and the parameters,
// answers with the KEK's bytes (transferred, so the worker keeps none), and wipes the
// passphrase. Loaded with `new Worker(new URL('./kdf.worker.ts', import.meta.url), { type:
// 'module' })`; kdfClient.ts speaks to it.

import { wipe, type Bytes } from './bytes';
import { isVaultError, type VaultErrorCode } from './errors';
import { deriveKekBytes } from './kdf';
import type { KdfParams } from './params';

export interface KdfRequest {
	id: number;
	/** UTF-8 of the NFC passphrase (normalisePassphrase). */
	passphrase: Bytes;
	salt: Bytes;
	params: KdfParams;
}

export type KdfReply = { id: number; kek: Bytes } | { id: number; error: { code: VaultErrorCode; message: string } };

/** What the worker needs of its global scope (a DedicatedWorkerGlobalScope, or a MessagePort). */
export interface KdfWorkerScope {
	addEventListener(type: 'message', listener: (event: MessageEvent<KdfRequest>) => void): void;
	postMessage(message: KdfReply, transfer: Transferable[]): void;
}

/** One request's answer; wipes the passphrase whatever happens. */
export async function answer(request: KdfRequest): Promise<KdfReply> {
	try {
		return { id: request.id, kek: await deriveKekBytes(request.passphrase, request.salt, request.params) };
	} catch (error) {
		const code = isVaultError(error) ? error.code : 'kdf_failed';
		const message = isVaultError(error) ? error.message : 'Argon2id failed';
		return { id: request.id, error: { code, message } };
	} finally {
		wipe(request.passphrase);
	}
}

export function serveKdf(scope: KdfWorkerScope): void {
	scope.addEventListener('message', (event) => {
		void answer(event.data).then((reply) => {
			const transfer = 'kek' in reply ? [reply.kek.buffer] : [];
			scope.postMessage(reply, transfer);
			// Transferred, the buffer is detached and this is a no-op; were it copied, the copy
			// is made by postMessage and this wipes the worker's.
			if ('kek' in reply) wipe(reply.kek);
		});
	});
}

// Serve only when loaded as a worker, not when a test or the page imports this module.
const workerScope = (globalThis as { WorkerGlobalScope?: new () => unknown }).WorkerGlobalScope;
if (workerScope !== undefined && globalThis instanceof workerScope) serveKdf(globalThis as unknown as KdfWorkerScope);
