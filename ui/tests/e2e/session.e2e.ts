// Two tabs of one browser share a session: their expired access tokens are refreshed at the same
// moment without ending it (the refresh token is single-use: a second refresh with the same one
// would end the session), and signing out in one tab signs the other out too.
import { expect, test } from '@playwright/test';
import { ACCESS_TOKEN_TTL_SECONDS } from './stack';
import { expectHeading, navLink, signedInUser, stack } from './helpers';

test('two tabs refresh expired tokens at once and both stay signed in; sign-out reaches both', async ({ context }) => {
	const { ui } = stack();
	await signedInUser(context, 'tabs');
	const refreshes: number[] = [];
	context.on('response', (res) => {
		if (new URL(res.url()).pathname === '/auth/refresh') refreshes.push(res.status());
	});
	const [a, b] = [await context.newPage(), await context.newPage()];
	await Promise.all([a.goto(`${ui}/`), b.goto(`${ui}/`)]);
	await Promise.all([expectHeading(a, 'Overview'), expectHeading(b, 'Overview')]);

	// Both access tokens expire; the cookie is also dropped so that neither tab can have
	// refreshed ahead of time: both tabs need a refresh at the same moment.
	await a.waitForTimeout((ACCESS_TOKEN_TTL_SECONDS + 1) * 1000);
	await context.clearCookies({ name: 'aileron_access' });
	await Promise.all([a.goto(`${ui}/credentials`), b.goto(`${ui}/credentials`)]);
	await Promise.all([expectHeading(a, 'Credentials'), expectHeading(b, 'Credentials')]);
	expect(refreshes.length, 'at least one refresh happened').toBeGreaterThan(0);
	expect(refreshes.every((s) => s === 200), `refresh answers: ${refreshes}`).toBe(true);

	// The session survived: both tabs still load signed-in pages, by navigation too.
	await Promise.all([navLink(a, 'Audit').click(), navLink(b, 'Security').click()]);
	await Promise.all([expectHeading(a, 'Audit log'), expectHeading(b, 'Security')]);
	await b.reload();
	await expectHeading(b, 'Security');

	// Signing out in one tab sends the other to the sign-in page (BroadcastChannel "aileron").
	await a.getByRole('button', { name: 'Sign out' }).click();
	await expect(a).toHaveURL((u) => u.pathname === '/sign-in');
	await expect(b).toHaveURL((u) => u.pathname === '/sign-in');
	await expectHeading(b, 'Sign in');
	// And the session is really over: a reload stays signed out.
	await b.goto(`${ui}/credentials`);
	await expect(b).toHaveURL((u) => u.pathname === '/sign-in');
});
