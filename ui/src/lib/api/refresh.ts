// Session refresh, serialised across tabs.
//
// The refresh token rotates and is single-use: presenting one that another tab already rotated
// out ends the whole session (docs/host.md). So every tab refreshes under one Web Lock, and the
// first thing a tab does once it holds the lock is to retry its call: if another tab refreshed
// while this one waited, the new cookies are already in the jar and no refresh is needed.
import { ApiError } from './errors';

export const REFRESH_LOCK = 'aileron-refresh';

/** The part of the Web Locks API we use (navigator.locks in browsers; a fake in tests). */
export interface Locks {
	request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

export interface RefreshDeps {
	locks: Locks;
	/** POST /auth/refresh; true when a new session was issued. */
	refresh: () => Promise<boolean>;
	/** The session is gone: tell the other tabs and go to the sign-in page. */
	signedOut: () => void;
}

/** A 401 that a refresh can cure: the access token is missing or expired. */
export function needsRefresh(error: unknown): error is ApiError {
	return (
		error instanceof ApiError &&
		error.status === 401 &&
		(error.code === 'token_expired' || error.code === 'unauthenticated')
	);
}

/** Runs `call`; on a curable 401, refreshes once under the lock and runs it again. */
export async function withRefresh<T>(call: () => Promise<T>, deps: RefreshDeps): Promise<T> {
	try {
		return await call();
	} catch (error) {
		if (!needsRefresh(error)) throw error;
	}
	return deps.locks.request(REFRESH_LOCK, async () => {
		try {
			return await call();
		} catch (error) {
			if (!needsRefresh(error)) throw error;
			if (!(await deps.refresh())) {
				deps.signedOut();
				throw error;
			}
		}
		return call();
	});
}

/**
 * A lock for one tab, for browsers without the Web Locks API (it needs a secure context;
 * localhost counts as one). Calls run one after another, in order.
 */
export function tabLocks(): Locks {
	const tails = new Map<string, Promise<unknown>>();
	return {
		request<T>(name: string, callback: () => Promise<T>): Promise<T> {
			const previous = tails.get(name) ?? Promise.resolve();
			const run = previous.then(callback, callback);
			tails.set(
				name,
				run.catch(() => undefined)
			);
			return run;
		}
	};
}
