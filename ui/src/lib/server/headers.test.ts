import { describe, expect, it } from 'vitest';
import { applySecurityHeaders, contentSecurityPolicy, extendCsp, originOf } from './headers';

const KIT = "default-src 'self'; script-src 'self' 'sha256-abc='; frame-ancestors 'none'; base-uri 'none'";

describe('contentSecurityPolicy', () => {
	it("keeps SvelteKit's script hashes and adds the API origin to connect-src and form-action", () => {
		const csp = contentSecurityPolicy(KIT, { api: 'https://api.example.com' });
		expect(csp).toContain("script-src 'self' 'sha256-abc='");
		expect(csp).toContain("connect-src 'self' https://api.example.com");
		expect(csp).toContain("form-action 'self' https://api.example.com");
		expect(csp).toContain("frame-ancestors 'none'");
		expect(csp).not.toContain('posthog');
	});

	it('adds the analytics host only when given', () => {
		const csp = contentSecurityPolicy(KIT, { api: 'http://localhost:8080', analytics: 'https://us.i.posthog.com' });
		expect(csp).toContain("connect-src 'self' http://localhost:8080 https://us.i.posthog.com");
	});

	it('fails closed without a policy from SvelteKit', () => {
		const csp = contentSecurityPolicy(null, { api: 'http://localhost:8080' });
		expect(csp).toContain("default-src 'self'");
		expect(csp).toContain("frame-ancestors 'none'");
	});
});

describe('extendCsp', () => {
	it('adds to an existing directive without repeating a value', () => {
		expect(extendCsp("connect-src 'self'", 'connect-src', ["'self'", 'https://a'])).toBe("connect-src 'self' https://a");
	});
});

describe('originOf', () => {
	it('keeps the origin of an http(s) URL', () => {
		expect(originOf('X', 'https://api.example.com/base/')).toBe('https://api.example.com');
	});

	it.each(['api.example.com', 'javascript:alert(1)', "https://a.example 'unsafe-inline'"])('refuses %j', (value) => {
		expect(() => originOf('PUBLIC_API_BASE', value)).toThrow(/PUBLIC_API_BASE/);
	});
});

describe('applySecurityHeaders', () => {
	it('sets every header', () => {
		const headers = new Headers({ 'content-security-policy': KIT });
		applySecurityHeaders(headers, { api: 'http://localhost:8080' });
		expect(headers.get('x-content-type-options')).toBe('nosniff');
		expect(headers.get('x-frame-options')).toBe('DENY');
		expect(headers.get('referrer-policy')).toBe('no-referrer');
		expect(headers.get('cross-origin-opener-policy')).toBe('same-origin');
		expect(headers.get('permissions-policy')).toContain('camera=()');
		expect(headers.get('content-security-policy')).toContain('connect-src');
	});
});
