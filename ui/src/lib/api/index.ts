// The app's API client: the base URL from PUBLIC_API_BASE (read at run time), the browser's Web
// Locks, and what happens when the session is gone for good.
import { env } from '$env/dynamic/public';
import { announce } from '$lib/broadcast';
import { session } from '$lib/session.svelte';
import { createClient } from './client';
import { tabLocks, type Locks } from './refresh';
import { DEFAULT_API_BASE } from '$lib/config';
import { unlockGate } from '$lib/vault/gate.svelte';
import { vaultHolder } from '$lib/vault/holder.svelte';

export { ApiError } from './errors';
export { friendlyMessage } from './messages';

export const API_BASE = (env.PUBLIC_API_BASE || DEFAULT_API_BASE).replace(/\/+$/, '');

function browserLocks(): Locks {
	const locks = typeof navigator === 'undefined' ? undefined : navigator.locks;
	if (!locks) return tabLocks();
	// The DOM typing wraps the callback's promise once more; the lock resolves to its value.
	return {
		request: <T>(name: string, callback: () => Promise<T>) =>
			locks.request(name, callback) as Promise<T>
	};
}

/** The session cannot be refreshed: tell the other tabs; the app shell goes to the sign-in page. */
export function signOutLocally(): void {
	vaultHolder.drop('signed-out');
	announce({ type: 'signed-out' });
	session.end();
}

export const api = createClient({
	base: API_BASE,
	fetch: (input, init) => fetch(input, init),
	locks: browserLocks(),
	signedOut: signOutLocally,
	// A 423 `vault_locked` anywhere opens the app shell's one unlock dialog, then retries.
	unlock: unlockGate
});
