import { describe, expect, it } from 'vitest';
import { ApiError, networkError } from './errors';
import { friendlyMessage, oauthMessage } from './messages';

const api = (code: string, message = 'server words') => new ApiError({ status: 400, code, message });

describe('friendlyMessage', () => {
	it.each([
		['invalid_code', /code is not valid/],
		['invalid_credentials', /email or password is wrong/],
		['last_sign_in_method', /last way to sign in/],
		['vault_not_set', /aileron vault set/],
		['origin_not_allowed', /AILERON_UI_REDIRECT_URL/],
		['rate_limited', /Too many attempts/]
	])('has a sentence for %s', (code, sentence) => {
		expect(friendlyMessage(api(code))).toMatch(sentence);
	});

	it("falls back to the server's message for a code it does not know", () => {
		expect(friendlyMessage(api('brand_new_code', 'something new happened'))).toBe('something new happened');
	});

	it('explains a network failure', () => {
		expect(friendlyMessage(networkError(new TypeError('Failed to fetch')))).toMatch(/cannot be reached/);
	});

	it('has a sentence for an error that is not from the API', () => {
		expect(friendlyMessage(new Error('x'))).toMatch(/Something went wrong/);
	});
});

describe('oauthMessage', () => {
	it.each([
		['oauth_failed', /refused the sign-in/],
		['oauth_state_mismatch', /expired or was not valid/],
		['account_suspended', /suspended/],
		['email_not_verified', /not confirmed your email/]
	])('has a sentence for %s', (code, sentence) => {
		expect(oauthMessage(code)).toMatch(sentence);
	});

	it('never echoes an unknown code from the address bar', () => {
		const crafted = 'Your account is locked, call +1 555 0100';
		expect(oauthMessage(crafted)).not.toContain(crafted);
		expect(oauthMessage(crafted)).toMatch(/did not work/);
	});
});
