import { describe, expect, it, vi } from 'vitest';
import type { Me } from '$lib/api/types';
import { Session } from './session.svelte';

const ada = { id: 'u1', email: 'ada@example.com', role: 'owner' } as unknown as Me;
const grace = { id: 'u2', email: 'grace@example.com', role: 'member' } as unknown as Me;

/** A call whose answer the test gives when it chooses. */
function deferred<T>() {
	let resolve!: (value: T) => void;
	let reject!: (error: unknown) => void;
	const promise = new Promise<T>((ok, fail) => {
		resolve = ok;
		reject = fail;
	});
	return { promise, resolve, reject };
}

describe('Session', () => {
	it('loads the user once while unknown', async () => {
		const session = new Session();
		const fetchMe = vi.fn(async () => ada);
		await session.load(fetchMe);
		await session.load(fetchMe);
		expect(session.status).toBe('known');
		expect(session.me).toEqual(ada);
		expect(fetchMe).toHaveBeenCalledTimes(1);
	});

	it('keeps a failure to show, and loads again after a retry', async () => {
		const session = new Session();
		const failure = new Error('down');
		await session.load(async () => Promise.reject(failure));
		expect(session.status).toBe('failed');
		expect(session.error).toBe(failure);
		session.restart();
		await session.load(async () => ada);
		expect(session.status).toBe('known');
		expect(session.error).toBeUndefined();
	});

	it('loads nothing after the session ended, until someone signs in again', async () => {
		const session = new Session();
		await session.load(async () => ada);
		session.end();
		expect(session.status).toBe('signed-out');
		expect(session.me).toBeUndefined();
		const fetchMe = vi.fn(async () => grace);
		await session.load(fetchMe);
		expect(fetchMe).not.toHaveBeenCalled();

		session.restart();
		await session.load(fetchMe);
		expect(session.status).toBe('known');
		expect(session.me).toEqual(grace);
	});

	it('drops the failure of a load that the sign-out itself caused', async () => {
		// Signing out clears the user while the shell is still shown; the shell's /v1/users/me
		// then fails (401) after the session ended. That failure must not be what the next
		// sign-in finds.
		const session = new Session();
		const call = deferred<Me>();
		const loading = session.load(() => call.promise);
		session.end();
		call.reject(new Error('401'));
		await loading;
		expect(session.status).toBe('signed-out');
		expect(session.error).toBeUndefined();

		session.restart();
		await session.load(async () => grace);
		expect(session.status).toBe('known');
		expect(session.me).toEqual(grace);
	});

	it('drops the user of a load started before a new sign-in', async () => {
		const session = new Session();
		const stale = deferred<Me>();
		const first = session.load(() => stale.promise);
		session.restart();
		await session.load(async () => grace);
		stale.resolve(ada);
		await first;
		expect(session.me).toEqual(grace);
	});
});
