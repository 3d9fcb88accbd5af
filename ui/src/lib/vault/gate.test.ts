import { describe, expect, it } from 'vitest';
import { createClient } from '$lib/api/client';
import { ApiError } from '$lib/api/errors';
import { tabLocks } from '$lib/api/refresh';
import { needsUnlock, UnlockCancelled, withUnlock } from '$lib/api/unlock';
import { UnlockGate } from './gate.svelte';

const locked = () => new ApiError({ status: 423, code: 'vault_locked', message: 'locked' });

function json(status: number, body: unknown): Response {
	return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

const LOCKED_BODY = { error: { code: 'vault_locked', message: 'the vault is locked', request_id: 'r' } };

describe('needsUnlock', () => {
	it.each([
		[locked(), true],
		[new ApiError({ status: 409, code: 'escrow_lost', message: '' }), true],
		[new ApiError({ status: 423, code: 'something_else', message: '' }), false],
		[new ApiError({ status: 404, code: 'not_found', message: '' }), false],
		[new Error('x'), false]
	])('%s → %s', (error, expected) => {
		expect(needsUnlock(error)).toBe(expected);
	});
});

describe('the unlock gate', () => {
	it('opens one dialog for concurrent locked answers and retries each call after unlocking', async () => {
		const gate = new UnlockGate();
		let unlocked = false;
		let requests = 0;
		const call = (answer: string) => async () => {
			if (!unlocked) throw locked();
			return answer;
		};
		const countingGate = { request: () => (requests++, gate.request()) };
		const a = withUnlock(call('a'), countingGate);
		const b = withUnlock(call('b'), countingGate);
		await new Promise((resolve) => setTimeout(resolve, 0));
		expect(gate.open).toBe(true);
		expect(requests).toBe(2);
		unlocked = true;
		gate.unlocked();
		await expect(Promise.all([a, b])).resolves.toEqual(['a', 'b']);
		expect(gate.open).toBe(false);
	});

	it('shares one pending promise while the dialog is open', () => {
		const gate = new UnlockGate();
		const first = gate.request();
		expect(gate.request()).toBe(first);
		gate.unlocked();
	});

	it('gives every caller its original error when the dialog is cancelled', async () => {
		const gate = new UnlockGate();
		const a = withUnlock(async () => {
			throw locked();
		}, gate);
		const b = withUnlock(async () => {
			throw locked();
		}, gate);
		await new Promise((resolve) => setTimeout(resolve, 0));
		gate.cancelled();
		await expect(a).rejects.toMatchObject({ code: 'vault_locked' });
		await expect(b).rejects.toMatchObject({ code: 'vault_locked' });
		expect(gate.open).toBe(false);
	});

	it('rejects a page waiting for the vault with UnlockCancelled', async () => {
		const gate = new UnlockGate();
		const waiting = gate.request('open');
		expect(gate.reason).toBe('open');
		gate.cancelled();
		await expect(waiting).rejects.toBeInstanceOf(UnlockCancelled);
	});

	it('opens a new dialog after the previous one closed', async () => {
		const gate = new UnlockGate();
		const first = gate.request();
		gate.unlocked();
		await first;
		const second = gate.request();
		expect(second).not.toBe(first);
		expect(gate.open).toBe(true);
		gate.unlocked();
	});

	it('does not wait for the dialog on other errors', async () => {
		const gate = new UnlockGate();
		await expect(
			withUnlock(async () => {
				throw new ApiError({ status: 404, code: 'not_found', message: '' });
			}, gate)
		).rejects.toMatchObject({ code: 'not_found' });
		expect(gate.open).toBe(false);
	});
});

describe('the API client with the gate', () => {
	function clientWith(gate: UnlockGate) {
		let unlocked = false;
		const calls: string[] = [];
		const client = createClient({
			base: 'http://api.test',
			fetch: async (input) => {
				calls.push(String(input));
				return unlocked ? json(200, { ok: true }) : json(423, LOCKED_BODY);
			},
			locks: tabLocks(),
			signedOut: () => {},
			unlock: gate
		});
		return { client, calls, unlock: () => (unlocked = true) };
	}

	it('retries concurrent calls answered 423 once the one dialog unlocked', async () => {
		const gate = new UnlockGate();
		const { client, calls, unlock } = clientWith(gate);
		const a = client.post('/v1/credentials/a/requests', {});
		const b = client.post('/v1/credentials/b/requests', {});
		await new Promise((resolve) => setTimeout(resolve, 0));
		expect(gate.open).toBe(true);
		unlock();
		gate.unlocked();
		await expect(Promise.all([a, b])).resolves.toEqual([{ ok: true }, { ok: true }]);
		expect(calls).toHaveLength(4);
	});

	it('never waits for the dialog on the vault\'s own calls', async () => {
		const gate = new UnlockGate();
		const { client } = clientWith(gate);
		await expect(client.request('POST', '/v1/credentials/a/escrow', { body: {}, unlock: false })).rejects.toMatchObject({
			status: 423
		});
		expect(gate.open).toBe(false);
	});
});
