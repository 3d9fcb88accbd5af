import { describe, expect, it } from 'vitest';
import { oauthErrorCode, safeNext, signInHref } from './next';

describe('safeNext', () => {
	it.each([
		['/', '/'],
		['/credentials', '/credentials'],
		['/credentials/github?tab=rules#x', '/credentials/github?tab=rules#x'],
		['/audit?action=login', '/audit?action=login']
	])('keeps the same-site path %j', (raw, expected) => {
		expect(safeNext(raw)).toBe(expected);
	});

	it.each([
		['missing', null],
		['empty', ''],
		['protocol-relative', '//evil.example/path'],
		['slash backslash', '/\\evil.example'],
		['backslash later', '/a\\b'],
		['absolute https', 'https://evil.example/'],
		['javascript scheme', 'javascript:alert(1)'],
		['data scheme', 'data:text/html,x'],
		['relative without slash', 'credentials'],
		['tab trick', '/\t/evil.example'],
		['newline', '/a\nb'],
		['space', '/ /evil.example'],
		['too long', `/${'a'.repeat(3000)}`],
		// Signing in to come back to the sign-in page goes nowhere: after a sign-out in the same
		// tab, this left the second sign-in on the sign-in page.
		['the sign-in page', '/sign-in'],
		['the sign-in page with a query', '/sign-in?next=%2Fvault'],
		['the sign-up page', '/sign-up']
	])('refuses %s', (_name, raw) => {
		expect(safeNext(raw)).toBe('/');
	});
});

describe('signInHref', () => {
	it('carries the path as next', () => {
		expect(signInHref('/credentials/github?x=1')).toBe('/sign-in?next=%2Fcredentials%2Fgithub%3Fx%3D1');
	});

	it('drops an unsafe or home path', () => {
		expect(signInHref('//evil.example')).toBe('/sign-in');
		expect(signInHref('/')).toBe('/sign-in');
	});

	it('never sends the visitor back to the sign-in page', () => {
		expect(signInHref('/sign-in')).toBe('/sign-in');
		expect(signInHref('/sign-in?next=%2Fsign-in')).toBe('/sign-in');
	});

	it.each([
		['home', '/?oauth_error=oauth_state_mismatch', '/sign-in?oauth_error=oauth_state_mismatch'],
		['a page', '/settings?oauth_error=oauth_failed', '/sign-in?next=%2Fsettings&oauth_error=oauth_failed'],
		[
			'a page with its own query',
			'/audit?action=login&oauth_error=account_suspended',
			'/sign-in?next=%2Faudit%3Faction%3Dlogin&oauth_error=account_suspended'
		]
	])('moves oauth_error from %s to the sign-in page', (_name, location, expected) => {
		expect(signInHref(location)).toBe(expected);
	});

	it.each([
		['upper case', '/?oauth_error=OAUTH_FAILED'],
		['markup', '/?oauth_error=%3Cscript%3E'],
		['digits', '/?oauth_error=oauth1'],
		['empty', '/?oauth_error='],
		['too long', `/?oauth_error=${'a'.repeat(65)}`]
	])('drops an oauth_error that is no code (%s), from next too', (_name, location) => {
		expect(signInHref(location)).toBe('/sign-in');
	});
});

describe('oauthErrorCode', () => {
	it.each(['oauth_failed', 'oauth_state_mismatch', 'a', 'x'.repeat(64)])('accepts %j', (code) => {
		expect(oauthErrorCode(code)).toBe(code);
	});

	it.each([null, undefined, '', 'Oauth_failed', 'oauth-failed', 'oauth failed', 'x'.repeat(65)])(
		'refuses %j',
		(raw) => {
			expect(oauthErrorCode(raw)).toBeUndefined();
		}
	);
});
