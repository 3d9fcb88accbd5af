// Where to go after signing in. `?next=` comes from the address bar, so anyone can craft it:
// only a path on this site is accepted, never another origin (an open redirect).

const FALLBACK = '/';
const PROBE = 'https://next.invalid';

/** The pages shown without the app shell, to visitors who are not signed in. */
export const PUBLIC_PATHS: readonly string[] = ['/sign-in', '/sign-up'];

export function isPublicPath(pathname: string): boolean {
	return PUBLIC_PATHS.includes(pathname);
}

/**
 * `raw` when it is a same-site relative path ("/credentials?x=1"), else "/". A public page is
 * not a destination either: coming back to the sign-in page after signing in goes nowhere.
 */
export function safeNext(raw: string | null | undefined): string {
	if (!raw || raw.length > 2048) return FALLBACK;
	// One leading slash: "//host" and "/\host" are read by browsers as another origin.
	if (!raw.startsWith('/') || raw.startsWith('//')) return FALLBACK;
	// Backslashes count as slashes in URLs; control characters and spaces are never in our paths.
	if (/[\\\u0000-\u0020\u007f]/.test(raw)) return FALLBACK;
	// The last word goes to the URL parser: the path must stay on the origin it is resolved on.
	let url: URL;
	try {
		url = new URL(raw, PROBE);
	} catch {
		return FALLBACK;
	}
	if (url.origin !== PROBE || isPublicPath(url.pathname)) return FALLBACK;
	return raw;
}

/**
 * The code of `?oauth_error=`, which the server adds when an OAuth sign-in fails; undefined
 * unless it looks like one of our codes (it is only ever looked up, never shown).
 */
export function oauthErrorCode(raw: string | null | undefined): string | undefined {
	return raw && /^[a-z_]{1,64}$/.test(raw) ? raw : undefined;
}

/**
 * The sign-in address for a visitor found signed out at `location` (path and query): `next`
 * comes back there afterwards, and an `oauth_error` the server put on it moves to the sign-in
 * page, which explains it. No other parameter is carried.
 */
export function signInHref(location: string): string {
	const params = new URLSearchParams();
	let next = safeNext(location);
	let code: string | undefined;
	if (next !== FALLBACK) {
		const url = new URL(next, PROBE);
		if (url.searchParams.has('oauth_error')) {
			code = oauthErrorCode(url.searchParams.get('oauth_error'));
			url.searchParams.delete('oauth_error');
			next = safeNext(url.pathname + url.search + url.hash);
		}
	}
	if (next !== FALLBACK) params.set('next', next);
	if (code) params.set('oauth_error', code);
	const query = params.toString();
	return query ? `/sign-in?${query}` : '/sign-in';
}

