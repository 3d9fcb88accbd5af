// Signing up with the mailed code, signing in with Google through a real OpenID provider, and
// what the sign-in pages do when something goes wrong.
import { expect, test, type Page } from '@playwright/test';
import { createVerifiedUser, expectHeading, latestCode, mailCount, PASSWORD, stack, uniqueEmail } from './helpers';

async function signUp(page: Page, email: string): Promise<void> {
	await page.goto(`${stack().ui}/sign-up`);
	await expectHeading(page, 'Create an account');
	await expect(page).toHaveTitle('Create an account · Aileron');
	await page.getByLabel('Email', { exact: true }).fill(email);
	await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
	await page.getByLabel('Display name (optional)').fill('Ada Lovelace');
	await page.getByRole('button', { name: 'Create account' }).click();
	await expectHeading(page, 'Check your email');
}

test('sign-up with the mailed code lands on the overview', async ({ page }) => {
	const email = uniqueEmail('signup');
	await signUp(page, email);
	await page.getByLabel('Six-digit code').fill(await latestCode(email));
	await page.getByRole('button', { name: 'Verify' }).click();
	await expectHeading(page, 'Overview');
	await expect(page).toHaveTitle('Overview · Aileron');
	await expect(page.getByRole('navigation', { name: 'Main' })).toBeVisible();
	await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
});

test('a wrong code shows the error and stays on the code step', async ({ page }) => {
	const email = uniqueEmail('wrongcode');
	await signUp(page, email);
	const code = await latestCode(email);
	const wrong = code.replace(/^./, (d) => String((Number(d) + 1) % 10));
	await page.getByLabel('Six-digit code').fill(wrong);
	await page.getByRole('button', { name: 'Verify' }).click();
	await expect(page.getByRole('alert')).toContainText(/not valid/i);
	await expectHeading(page, 'Check your email');
	await expect(page).toHaveURL((u) => !['/', ''].includes(u.pathname));

	// The right code still works after a wrong one.
	await page.getByLabel('Six-digit code').fill(code);
	await page.getByRole('button', { name: 'Verify' }).click();
	await expectHeading(page, 'Overview');
});

test('the resend button counts down after a send and a new code is mailed', async ({ page }) => {
	const email = uniqueEmail('resend');
	await signUp(page, email);
	await latestCode(email);
	const sent = await mailCount(email);
	const resend = page.getByRole('button', { name: /^Resend code/ });
	// The sign-up itself may already have started the cooldown; otherwise send again now.
	if (await resend.isEnabled()) await resend.click();
	await expect(resend).toBeDisabled();
	await expect(resend).toHaveText(/^Resend code in \d+ s$/);
	const first = Number(/(\d+)/.exec((await resend.textContent()) ?? '')?.[1]);
	expect(first).toBeGreaterThan(1);
	expect(first).toBeLessThanOrEqual(60);
	await expect
		.poll(async () => Number(/(\d+)/.exec((await resend.textContent()) ?? '')?.[1]), { timeout: 5_000 })
		.toBeLessThan(first);
	await expect(resend).toBeDisabled();
	// A send happened (the sign-up's or the resend's): the newest code verifies.
	expect(await mailCount(email)).toBeGreaterThanOrEqual(sent);
	await page.getByLabel('Six-digit code').fill(await latestCode(email));
	await page.getByRole('button', { name: 'Verify' }).click();
	await expectHeading(page, 'Overview');
});

test('sign-in with Google through the OpenID provider lands on the overview', async ({ page }) => {
	const { ui, api, googleEmail } = stack();
	await page.goto(`${ui}/sign-in`);
	await expectHeading(page, 'Sign in');
	await expect(page).toHaveTitle('Sign in · Aileron');
	const google = page.getByRole('link', { name: 'Continue with Google' });
	await expect(google).toHaveAttribute('href', `${api}/auth/google/login`);
	await google.click();
	await expectHeading(page, 'Overview');
	expect(new URL(page.url()).origin).toBe(ui);
	// The account is the provider's.
	await page.goto(`${ui}/settings`);
	await expectHeading(page, 'Settings');
	await expect(page.getByText(googleEmail).first()).toBeVisible();
});

test('an OAuth failure lands on the sign-in page with an alert', async ({ page }) => {
	const { ui, api } = stack();
	// A callback whose state was never issued (no flow cookie): the server refuses it and sends
	// the browser to the UI with ?oauth_error=oauth_state_mismatch.
	await page.goto(`${api}/auth/google/callback?state=forged-state&code=forged-code`);
	await expect(page).toHaveURL((u) => u.origin === ui && u.pathname === '/sign-in');
	await expectHeading(page, 'Sign in');
	await expect(page.getByRole('alert')).toBeVisible();
	await expect(page.getByRole('alert')).not.toBeEmpty();
	await expect(page.getByRole('alert')).not.toContainText('oauth_state_mismatch');
});

test('the sign-in page explains ?oauth_error in a sentence', async ({ page }) => {
	await page.goto(`${stack().ui}/sign-in?oauth_error=oauth_state_mismatch`);
	await expectHeading(page, 'Sign in');
	await expect(page.getByRole('alert')).toBeVisible();
	await expect(page.getByRole('alert')).not.toBeEmpty();
});

test('sign-in with email and password; a wrong password is refused', async ({ page }) => {
	const email = uniqueEmail('signin');
	await createVerifiedUser(email);
	await page.goto(`${stack().ui}/sign-in`);
	await expectHeading(page, 'Sign in');
	await page.getByLabel('Email', { exact: true }).fill(email);
	await page.getByLabel('Password', { exact: true }).fill('not the password at all');
	await page.getByRole('button', { name: 'Sign in' }).click();
	await expect(page.getByRole('alert')).toBeVisible();
	await expectHeading(page, 'Sign in');

	await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
	await page.getByRole('button', { name: 'Sign in' }).click();
	await expectHeading(page, 'Overview');
});

test('after signing out, signing in again in the same tab reaches the overview', async ({ page }) => {
	const email = uniqueEmail('again');
	await createVerifiedUser(email);
	await page.goto(`${stack().ui}/sign-in`);
	await page.getByLabel('Email', { exact: true }).fill(email);
	await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
	await page.getByRole('button', { name: 'Sign in' }).click();
	await expectHeading(page, 'Overview');
	await page.getByRole('button', { name: 'Sign out' }).click();
	await expectHeading(page, 'Sign in');

	await page.getByLabel('Email', { exact: true }).fill(email);
	await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
	await page.getByRole('button', { name: 'Sign in' }).click();
	await expectHeading(page, 'Overview');
});

test('sign-in honours ?next= for a relative path only', async ({ page }) => {
	const email = uniqueEmail('next');
	await createVerifiedUser(email);
	const signIn = async (next: string) => {
		await page.goto(`${stack().ui}/sign-in?next=${encodeURIComponent(next)}`);
		await page.getByLabel('Email', { exact: true }).fill(email);
		await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
		await page.getByRole('button', { name: 'Sign in' }).click();
	};
	await signIn('/security');
	await expectHeading(page, 'Security');
	await page.context().clearCookies();
	await signIn('https://evil.example/');
	await expectHeading(page, 'Overview');
	expect(new URL(page.url()).origin).toBe(stack().ui);
});
