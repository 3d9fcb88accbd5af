// A small typed client over fetch. Cookies carry the session (`credentials: 'include'`): the UI
// never sees a token. Every failure becomes an ApiError; 401s that a refresh can cure go through
// withRefresh.
import { ApiError, errorFrom, networkError } from './errors';
import { withRefresh, type Locks } from './refresh';
import { withUnlock, type Gate } from './unlock';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface ClientOptions {
	/** The API's base URL, e.g. http://localhost:8080 (no trailing slash needed). */
	base: string;
	fetch: typeof fetch;
	locks: Locks;
	/** Called once when the session cannot be refreshed. */
	signedOut: () => void;
	/** Opens the unlock dialog when an answer says the vault is locked (./unlock.ts). */
	unlock?: Gate;
}

export interface Call {
	body?: unknown;
	/** Query parameters; undefined and empty values are left out. */
	query?: Record<string, string | number | undefined>;
	/** false for /auth/* calls, which must never trigger a refresh. */
	refresh?: boolean;
	/** false for the vault's own calls, which must never wait for the unlock dialog. */
	unlock?: boolean;
}

export type Client = ReturnType<typeof createClient>;

export function createClient(options: ClientOptions) {
	const base = options.base.replace(/\/+$/, '');

	async function send<T>(method: Method, path: string, call: Call): Promise<T> {
		const init: RequestInit = {
			method,
			credentials: 'include',
			headers: { accept: 'application/json' }
		};
		if (call.body !== undefined) {
			init.headers = { ...init.headers, 'content-type': 'application/json' };
			init.body = JSON.stringify(call.body);
		}
		let response: Response;
		try {
			response = await options.fetch(url(base, path, call.query), init);
		} catch (cause) {
			throw networkError(cause);
		}
		if (!response.ok) throw await errorFrom(response);
		return (await bodyOf(response)) as T;
	}

	async function refresh(): Promise<boolean> {
		try {
			await send('POST', '/auth/refresh', {});
			return true;
		} catch (error) {
			if (error instanceof ApiError && error.status >= 400 && error.status < 500) return false;
			throw error;
		}
	}

	function authenticated<T>(method: Method, path: string, call: Call): Promise<T> {
		if (call.refresh === false) return send<T>(method, path, call);
		return withRefresh(() => send<T>(method, path, call), {
			locks: options.locks,
			refresh,
			signedOut: options.signedOut
		});
	}

	function request<T>(method: Method, path: string, call: Call = {}): Promise<T> {
		const gate = options.unlock;
		if (call.unlock === false || gate === undefined) return authenticated<T>(method, path, call);
		return withUnlock(() => authenticated<T>(method, path, call), gate);
	}

	return {
		base,
		request,
		get: <T>(path: string, call?: Call) => request<T>('GET', path, call),
		post: <T>(path: string, body?: unknown, call?: Call) =>
			request<T>('POST', path, { ...call, body }),
		patch: <T>(path: string, body: unknown) => request<T>('PATCH', path, { body }),
		put: <T>(path: string, body: unknown, call?: Call) => request<T>('PUT', path, { ...call, body }),
		del: (path: string) => request<void>('DELETE', path)
	};
}

function url(base: string, path: string, query: Call['query']): string {
	const params = new URLSearchParams();
	for (const [key, value] of Object.entries(query ?? {})) {
		if (value !== undefined && value !== '') params.set(key, String(value));
	}
	const search = params.toString();
	return base + path + (search ? `?${search}` : '');
}

async function bodyOf(response: Response): Promise<unknown> {
	if (response.status === 204) return undefined;
	const text = await response.text();
	if (text === '') return undefined;
	try {
		return JSON.parse(text);
	} catch {
		throw new ApiError({
			status: response.status,
			code: 'bad_response',
			message: 'The server sent an answer that is not JSON.',
			requestId: response.headers.get('x-request-id') ?? undefined
		});
	}
}

/** A path segment from a user-chosen name (credential, escrow, token id). */
export function segment(name: string): string {
	return encodeURIComponent(name);
}
