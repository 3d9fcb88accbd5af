// The page's side of kdf.worker.ts: passphrase in, the KEK out as a non-exportable CryptoKey.
// The parameters are checked here too, so a hostile server's gigabytes are refused before a
// worker starts. Argon2id reports no progress: show an indeterminate state while it runs
// (about 0.3 s at the default parameters in Node 20 and Chromium 156 on this machine, more on
// slow devices), and terminate the worker to cancel. One worker per unlock, terminated after,
// also frees the 64 MiB of WebAssembly memory Argon2id filled (which nothing can wipe).

import { expectLength, wipe, type Bytes } from './bytes';
import { VaultError } from './errors';
import { importKek } from './keys';
import { normalisePassphrase } from './normalise';
import { checkKdfParams, SALT_LEN, type KdfParams } from './params';
import type { KdfReply, KdfRequest } from './kdf.worker';

/** A Worker, or a MessagePort in tests. */
export interface KdfWorker {
	postMessage(message: KdfRequest, transfer: Transferable[]): void;
	addEventListener(type: 'message', listener: (event: MessageEvent<KdfReply>) => void): void;
	addEventListener(type: 'error', listener: (event: Event) => void): void;
	removeEventListener(type: 'message', listener: (event: MessageEvent<KdfReply>) => void): void;
	removeEventListener(type: 'error', listener: (event: Event) => void): void;
}

let nextId = 1;

/**
 * The KEK's bytes from the worker (the caller wipes them, or passes them to importKek). The
 * passphrase bytes are wiped here, whatever happens.
 */
export async function requestKek(worker: KdfWorker, passphrase: Bytes, salt: Bytes, params: KdfParams): Promise<Bytes> {
	// An exact-size copy to transfer (a view may share a larger buffer), the original wiped.
	const sent = passphrase.slice();
	wipe(passphrase);
	try {
		expectLength(salt, SALT_LEN, 'the salt');
		const request: KdfRequest = { id: nextId++, passphrase: sent, salt, params: checkKdfParams(params) };
		return await exchange(worker, request);
	} finally {
		wipe(sent);
	}
}

function exchange(worker: KdfWorker, request: KdfRequest): Promise<Bytes> {
	return new Promise((resolve, reject) => {
		const onMessage = (event: MessageEvent<KdfReply>): void => {
			const reply = event.data;
			if (reply.id !== request.id) return;
			done();
			if ('kek' in reply) resolve(reply.kek);
			else reject(new VaultError(reply.error.code, reply.error.message));
		};
		const onError = (): void => {
			done();
			reject(new VaultError('kdf_failed', 'the key-derivation worker failed'));
		};
		const done = (): void => {
			worker.removeEventListener('message', onMessage);
			worker.removeEventListener('error', onError);
		};
		worker.addEventListener('message', onMessage);
		worker.addEventListener('error', onError);
		// Transferred: after this the page's copy of the passphrase is detached (wiping it then
		// is a no-op; were it copied instead, requestKek's wipe clears the page's copy).
		worker.postMessage(request, [request.passphrase.buffer]);
	});
}

/** The KEK of `passphrase` as a non-exportable AES-256-GCM key, derived in `worker`. */
export async function deriveKek(worker: KdfWorker, passphrase: string, salt: Bytes, params: KdfParams): Promise<CryptoKey> {
	checkKdfParams(params);
	expectLength(salt, SALT_LEN, 'the salt');
	return importKek(await requestKek(worker, normalisePassphrase(passphrase), salt, params));
}
