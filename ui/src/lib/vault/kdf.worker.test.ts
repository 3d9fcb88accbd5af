import { afterEach, describe, expect, it } from 'vitest';

import { fromB64u, fromHex, hex, type Bytes } from './bytes';
import { deriveKek, requestKek, type KdfWorker } from './kdfClient';
import { answer, serveKdf, type KdfReply, type KdfRequest, type KdfWorkerScope } from './kdf.worker';
import { importKek } from './keys';
import { normalisePassphrase } from './normalise';
import { KDF_DEFAULT } from './params';
import { refusal } from './testing/refusal';
import { vectors } from './testing/vectors';

const v = vectors.kdf[0]!;
const salt = (): Bytes => fromB64u(v.salt, 'salt');
const ports: MessagePort[] = [];

/** A worker served over a MessageChannel, as the page would talk to kdf.worker.ts. */
function channelWorker(): KdfWorker {
	const { port1, port2 } = new MessageChannel();
	ports.push(port1, port2);
	serveKdf(port2 as unknown as KdfWorkerScope);
	port2.start();
	port1.start();
	return port1 as unknown as KdfWorker;
}

/** A worker that records what it is sent and answers with `reply` (or an error event). */
function fakeWorker(reply: (request: KdfRequest) => (KdfReply | 'error')[]): KdfWorker & { sent: KdfRequest[] } {
	const target = new EventTarget();
	const sent: KdfRequest[] = [];
	return {
		sent,
		postMessage(request: KdfRequest) {
			sent.push(request);
			for (const answer of reply(request)) {
				queueMicrotask(() =>
					target.dispatchEvent(answer === 'error' ? new Event('error') : new MessageEvent('message', { data: answer }))
				);
			}
		},
		addEventListener: target.addEventListener.bind(target) as KdfWorker['addEventListener'],
		removeEventListener: target.removeEventListener.bind(target) as KdfWorker['removeEventListener']
	};
}

afterEach(() => {
	for (const port of ports.splice(0)) port.close();
});

describe('the KDF worker', () => {
	it('derives the vector\'s KEK over a message channel, and wipes the page\'s passphrase bytes', async () => {
		const passphrase = normalisePassphrase(v.passphrase);
		const kek = await requestKek(channelWorker(), passphrase, salt(), v);
		expect(hex(kek)).toBe(v.kek_hex);
		expect(passphrase.every((byte) => byte === 0)).toBe(true);
	});

	it('transfers the passphrase bytes to the worker rather than copying them', async () => {
		const worker = channelWorker();
		const transfers: Transferable[][] = [];
		const post = worker.postMessage.bind(worker);
		worker.postMessage = (request, transfer) => {
			transfers.push(transfer);
			post(request, transfer);
			expect(request.passphrase.byteLength).toBe(0);
		};
		await requestKek(worker, normalisePassphrase(v.passphrase), salt(), v);
		expect(transfers).toHaveLength(1);
		expect(transfers[0]).toHaveLength(1);
	});

	it('gives the page a non-exportable AES-GCM KEK equal to the vector\'s', async () => {
		const kek = await deriveKek(channelWorker(), v.passphrase, salt(), v);
		expect(kek.extractable).toBe(false);
		expect(kek.algorithm.name).toBe('AES-GCM');
		const gcm = { name: 'AES-GCM', iv: new Uint8Array(12) };
		const probe = new Uint8Array([1, 2, 3]);
		const expected = await crypto.subtle.encrypt(gcm, await importKek(fromHex(v.kek_hex)), probe);
		expect(hex(new Uint8Array(await crypto.subtle.encrypt(gcm, kek, probe)))).toBe(hex(new Uint8Array(expected)));
	});

	it('answers with the KEK transferred, and wipes the passphrase it received', async () => {
		let listener: ((event: MessageEvent<KdfRequest>) => void) | undefined;
		const posted: [KdfReply, Transferable[]][] = [];
		serveKdf({ addEventListener: (_, l) => (listener = l), postMessage: (reply, transfer) => posted.push([reply, transfer]) });
		const request: KdfRequest = { id: 7, passphrase: normalisePassphrase(v.passphrase), salt: salt(), params: v };
		listener!(new MessageEvent('message', { data: request }));
		await expect.poll(() => posted.length, { timeout: 30_000 }).toBe(1);
		const [reply, transfer] = posted[0]!;
		expect(reply.id).toBe(7);
		expect('kek' in reply && transfer[0] === reply.kek.buffer).toBe(true);
		expect(request.passphrase.every((byte) => byte === 0)).toBe(true);
	});

	it('answers out-of-bounds parameters with their error code, and wipes the passphrase', async () => {
		const request: KdfRequest = { id: 3, passphrase: normalisePassphrase('pw'), salt: salt(), params: { ...KDF_DEFAULT, t_cost: 2 } };
		const reply = await answer(request);
		expect(reply).toEqual({ id: 3, error: { code: 'kdf_params_out_of_bounds', message: expect.any(String) } });
		expect(request.passphrase.every((byte) => byte === 0)).toBe(true);
	});
});

describe('the page\'s side', () => {
	it('refuses out-of-bounds parameters before starting the worker, wiping the passphrase', async () => {
		const worker = fakeWorker(() => []);
		const passphrase = normalisePassphrase('pw');
		const code = await refusal(requestKek(worker, passphrase, salt(), { ...KDF_DEFAULT, m_cost_kib: 4 * 1024 * 1024 }));
		expect(code).toBe('kdf_params_out_of_bounds');
		expect(worker.sent).toEqual([]);
		expect(passphrase.every((byte) => byte === 0)).toBe(true);
	});

	it('refuses a salt of the wrong length before starting the worker', async () => {
		const worker = fakeWorker(() => []);
		expect(await refusal(deriveKek(worker, 'pw', new Uint8Array(8), KDF_DEFAULT))).toBe('malformed');
		expect(worker.sent).toEqual([]);
	});

	it('passes on the worker\'s error code', async () => {
		const worker = fakeWorker((r) => [{ id: r.id, error: { code: 'kdf_params_out_of_bounds', message: 'no' } }]);
		expect(await refusal(requestKek(worker, normalisePassphrase('pw'), salt(), KDF_DEFAULT))).toBe('kdf_params_out_of_bounds');
	});

	it('fails with kdf_failed when the worker fails', async () => {
		const worker = fakeWorker(() => ['error']);
		expect(await refusal(requestKek(worker, normalisePassphrase('pw'), salt(), KDF_DEFAULT))).toBe('kdf_failed');
	});

	it('ignores answers to other requests', async () => {
		const kek = new Uint8Array(32).fill(5);
		const worker = fakeWorker((r) => [
			{ id: r.id + 1000, error: { code: 'kdf_failed', message: 'not yours' } },
			{ id: r.id, kek }
		]);
		expect(hex(await requestKek(worker, normalisePassphrase('pw'), salt(), KDF_DEFAULT))).toBe(hex(kek));
	});
});
