import { describe, expect, it } from 'vitest';
import { createClient } from './client';
import { ApiError, NETWORK, parseRetryAfter } from './errors';
import { tabLocks } from './refresh';

type Recorded = { url: string; init: RequestInit };

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
	return new Response(body === undefined ? null : JSON.stringify(body), {
		status,
		headers: { 'content-type': 'application/json', ...headers }
	});
}

function clientWith(answer: (url: string) => Response | Promise<Response>) {
	const calls: Recorded[] = [];
	const client = createClient({
		base: 'http://api.test/',
		fetch: async (input, init) => {
			calls.push({ url: String(input), init: init ?? {} });
			return answer(String(input));
		},
		locks: tabLocks(),
		signedOut: () => {}
	});
	return { client, calls };
}

async function caught(promise: Promise<unknown>): Promise<ApiError> {
	try {
		await promise;
	} catch (error) {
		if (error instanceof ApiError) return error;
		throw error;
	}
	throw new Error('expected the call to fail');
}

describe('the API client', () => {
	it('sends JSON with the cookies and returns the parsed body', async () => {
		const { client, calls } = clientWith(() => json(200, { ok: true }));
		await expect(client.post('/v1/things', { name: 'a' })).resolves.toEqual({ ok: true });
		expect(calls[0]!.url).toBe('http://api.test/v1/things');
		expect(calls[0]!.init.credentials).toBe('include');
		expect(calls[0]!.init.method).toBe('POST');
		expect(calls[0]!.init.body).toBe('{"name":"a"}');
		expect((calls[0]!.init.headers as Record<string, string>)['content-type']).toBe('application/json');
	});

	it('leaves empty query values out', async () => {
		const { client, calls } = clientWith(() => json(200, {}));
		await client.get('/v1/audit', { query: { action: 'login', actor: '', before: undefined, limit: 5 } });
		expect(calls[0]!.url).toBe('http://api.test/v1/audit?action=login&limit=5');
	});

	it('returns undefined for 204', async () => {
		const { client } = clientWith(() => new Response(null, { status: 204 }));
		await expect(client.del('/v1/credentials/x')).resolves.toBeUndefined();
	});

	it('reads the code, message and request id of an error body', async () => {
		const { client } = clientWith(() =>
			json(404, { error: { code: 'not_found', message: 'no such credential', request_id: 'req-1' } })
		);
		const error = await caught(client.get('/v1/credentials/x'));
		expect(error).toMatchObject({ status: 404, code: 'not_found', message: 'no such credential', requestId: 'req-1' });
	});

	it('falls back to the x-request-id header when the body is not the documented shape', async () => {
		const { client } = clientWith(
			() => new Response('<html>bad gateway</html>', { status: 502, headers: { 'x-request-id': 'req-2' } })
		);
		const error = await caught(client.get('/v1/health'));
		expect(error).toMatchObject({ status: 502, code: 'bad_response', requestId: 'req-2' });
	});

	it('keeps Retry-After of a 429', async () => {
		const { client } = clientWith(() =>
			json(429, { error: { code: 'rate_limited', message: 'slow down', request_id: 'r' } }, { 'retry-after': '17' })
		);
		const error = await caught(client.post('/auth/resend-verification', { email: 'a@b.c' }, { refresh: false }));
		expect(error.code).toBe('rate_limited');
		expect(error.retryAfter).toBe(17);
	});

	it('turns a failed fetch into a network error', async () => {
		const { client } = clientWith(() => Promise.reject(new TypeError('Failed to fetch')));
		const error = await caught(client.get('/v1/health'));
		expect(error).toMatchObject({ status: 0, code: NETWORK });
	});
});

describe('parseRetryAfter', () => {
	it.each([
		['30', 30],
		[' 5 ', 5],
		['Wed, 21 Oct 2015 07:28:00 GMT', undefined],
		['-1', undefined],
		['', undefined]
	])('reads %j as %j', (value, expected) => {
		expect(parseRetryAfter(value)).toBe(expected);
	});

	it('reads a missing header as undefined', () => {
		expect(parseRetryAfter(null)).toBeUndefined();
	});
});
