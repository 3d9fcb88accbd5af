// The UI server's security headers. SvelteKit writes the Content-Security-Policy with the hash
// of its inline bootstrap script (kit.csp in svelte.config.js); the parts known only at run time
// are added here: the API origin (PUBLIC_API_BASE) and, when analytics was built in, its host.

export { DEFAULT_API_BASE } from '../config';

/** The origin of an http(s) base URL; refuses anything else so a typo cannot widen the policy. */
export function originOf(name: string, value: string): string {
	let url: URL;
	try {
		url = new URL(value);
	} catch {
		throw new Error(`${name}: not an absolute URL: ${JSON.stringify(value)}`);
	}
	if (url.protocol !== 'https:' && url.protocol !== 'http:') {
		throw new Error(`${name}: expected an http(s) URL, got ${JSON.stringify(url.protocol)}`);
	}
	return url.origin;
}

export interface Origins {
	api: string;
	/** The analytics host, only when a PostHog key was built in. */
	analytics?: string;
}

/** Adds `values` to `directive` of a CSP string (creating it when absent). */
export function extendCsp(csp: string, directive: string, values: string[]): string {
	const parts = csp
		.split(';')
		.map((part) => part.trim())
		.filter(Boolean);
	const index = parts.findIndex((part) => part.split(/\s+/)[0] === directive);
	if (index === -1) return [...parts, [directive, ...values].join(' ')].join('; ');
	const existing = parts[index]!.split(/\s+/);
	parts[index] = [...existing, ...values.filter((v) => !existing.includes(v))].join(' ');
	return parts.join('; ');
}

/** The final policy: SvelteKit's (with its script hashes) plus the run-time origins. */
export function contentSecurityPolicy(kitCsp: string | null, origins: Origins): string {
	const connect = ["'self'", origins.api, ...(origins.analytics ? [origins.analytics] : [])];
	let csp =
		kitCsp ??
		"default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; frame-ancestors 'none'; base-uri 'none'";
	csp = extendCsp(csp, 'connect-src', connect);
	// Sign-in with a provider is a link, not a form; the API origin is there for form posts to it.
	csp = extendCsp(csp, 'form-action', ["'self'", origins.api]);
	return csp;
}

/** Every header but the CSP. */
export const STATIC_HEADERS: Readonly<Record<string, string>> = {
	'x-content-type-options': 'nosniff',
	'referrer-policy': 'no-referrer',
	'x-frame-options': 'DENY',
	'permissions-policy':
		'camera=(), microphone=(), geolocation=(), payment=(), usb=(), clipboard-read=(), clipboard-write=(self)',
	'cross-origin-opener-policy': 'same-origin',
	'cross-origin-resource-policy': 'same-origin'
};

/** Sets every security header on `headers`. */
export function applySecurityHeaders(headers: Headers, origins: Origins): void {
	for (const [name, value] of Object.entries(STATIC_HEADERS)) headers.set(name, value);
	headers.set(
		'content-security-policy',
		contentSecurityPolicy(headers.get('content-security-policy'), origins)
	);
}
