import { describe, expect, it } from 'vitest';
import { createClient } from './client';
import { ApiError } from './errors';
import { REFRESH_LOCK, tabLocks, withRefresh, type Locks } from './refresh';

/**
 * A fake server: access is valid for one "session generation"; /auth/refresh moves to the next
 * one (and refuses a second refresh with the same token, as the real rotation does).
 */
function fakeServer(options: { refreshWorks: boolean }) {
	let generation = 0;
	let cookie = 0; // the generation the browser's cookies belong to; 0 = expired
	const log: string[] = [];
	const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
		const path = new URL(String(input)).pathname;
		log.push(`${init?.method ?? 'GET'} ${path}`);
		// Answers come later than the call, so concurrent calls overlap as in a browser.
		await new Promise((resolve) => setTimeout(resolve, 5));
		if (path === '/auth/refresh') {
			if (!options.refreshWorks) return error(401, 'invalid_refresh_token');
			generation += 1;
			cookie = generation;
			return new Response(JSON.stringify({ token_type: 'cookie' }), { status: 200 });
		}
		if (cookie === 0 || cookie !== generation) return error(401, 'token_expired');
		return new Response(JSON.stringify({ path }), { status: 200 });
	};
	return { fetch, log, refreshes: () => log.filter((l) => l === 'POST /auth/refresh').length };
}

function error(status: number, code: string): Response {
	return new Response(JSON.stringify({ error: { code, message: code, request_id: 'r' } }), { status });
}

/** Web Locks as the browser gives them, with a record of who held the lock. */
function recordingLocks(): Locks & { names: string[] } {
	const inner = tabLocks();
	const names: string[] = [];
	return {
		names,
		request: (name, callback) => {
			names.push(name);
			return inner.request(name, callback);
		}
	};
}

describe('refreshing an expired session', () => {
	it('refreshes exactly once for two concurrent 401s, and both calls succeed', async () => {
		const server = fakeServer({ refreshWorks: true });
		const locks = recordingLocks();
		let signedOut = 0;
		const client = createClient({ base: 'http://api.test', fetch: server.fetch, locks, signedOut: () => signedOut++ });

		const [a, b] = await Promise.all([client.get('/v1/users/me'), client.get('/v1/credentials')]);

		expect(a).toEqual({ path: '/v1/users/me' });
		expect(b).toEqual({ path: '/v1/credentials' });
		expect(server.refreshes()).toBe(1);
		expect(locks.names).toEqual([REFRESH_LOCK, REFRESH_LOCK]);
		expect(signedOut).toBe(0);
	});

	it('retries inside the lock before refreshing: a refresh by another tab is enough', async () => {
		const server = fakeServer({ refreshWorks: true });
		// Another tab refreshes while this one waits for the lock.
		const otherTab = createClient({ base: 'http://api.test', fetch: server.fetch, locks: tabLocks(), signedOut: () => {} });
		const locks: Locks = {
			request: async (name, callback) => {
				await otherTab.post('/auth/refresh', undefined, { refresh: false });
				return callback();
			}
		};
		const client = createClient({ base: 'http://api.test', fetch: server.fetch, locks, signedOut: () => {} });
		await expect(client.get('/v1/users/me')).resolves.toEqual({ path: '/v1/users/me' });
		expect(server.refreshes()).toBe(1);
	});

	it('signs out once when the refresh is refused, and the call fails', async () => {
		const server = fakeServer({ refreshWorks: false });
		let signedOut = 0;
		const client = createClient({
			base: 'http://api.test',
			fetch: server.fetch,
			locks: tabLocks(),
			signedOut: () => signedOut++
		});
		await expect(client.get('/v1/users/me')).rejects.toMatchObject({ status: 401, code: 'token_expired' });
		expect(signedOut).toBe(1);
	});

	it('does not refresh for a 401 that a refresh cannot cure', async () => {
		let refreshed = 0;
		const call = () => Promise.reject(new ApiError({ status: 401, code: 'invalid_credentials', message: 'no' }));
		await expect(
			withRefresh(call, { locks: tabLocks(), refresh: async () => (refreshed++, true), signedOut: () => {} })
		).rejects.toMatchObject({ code: 'invalid_credentials' });
		expect(refreshed).toBe(0);
	});

	it('never refreshes for calls made with refresh: false', async () => {
		const server = fakeServer({ refreshWorks: true });
		const client = createClient({ base: 'http://api.test', fetch: server.fetch, locks: tabLocks(), signedOut: () => {} });
		await expect(client.get('/v1/users/me', { refresh: false })).rejects.toMatchObject({ code: 'token_expired' });
		expect(server.refreshes()).toBe(0);
	});
});

describe('tabLocks', () => {
	it('runs callbacks for one name one after another', async () => {
		const locks = tabLocks();
		const order: string[] = [];
		const slow = locks.request('x', async () => {
			order.push('a start');
			await new Promise((r) => setTimeout(r, 10));
			order.push('a end');
		});
		const fast = locks.request('x', async () => {
			order.push('b');
		});
		await Promise.all([slow, fast]);
		expect(order).toEqual(['a start', 'a end', 'b']);
	});

	it('keeps going after a callback fails', async () => {
		const locks = tabLocks();
		await expect(locks.request('x', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
		await expect(locks.request('x', async () => 42)).resolves.toBe(42);
	});
});
