// Credentials seeded by the real CLI (the browser cannot add one before the vault's client-side
// cryptography lands): the list, a credential's page, deleting it, the "Test a request" panel
// against the server's own scope check, and how an API error shows its request id.
import { expect, test, type Page } from '@playwright/test';
import { api, expectHeading, seedCredential, signInContext, stack, tokenFor, type Seeded } from './helpers';

async function openCredential(page: Page, seed: Seeded): Promise<void> {
	await page.goto(`${stack().ui}/credentials`);
	await expectHeading(page, 'Credentials');
	await expect(page).toHaveTitle('Credentials · Aileron');
	const link = page.getByRole('link', { name: seed.credential, exact: true });
	await expect(link).toHaveAttribute('href', `/credentials/${seed.credential}`);
	await link.click();
	await expectHeading(page, seed.credential);
	await expect(page).toHaveURL(`${stack().ui}/credentials/${seed.credential}`);
}

test('the list, a credential\'s details, and deleting it', async ({ page, context }) => {
	const seed = await seedCredential('creds');
	await signInContext(context, seed.email);
	await page.goto(`${stack().ui}/credentials`);
	await expectHeading(page, 'Credentials');
	const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: seed.credential, exact: true }) });
	await expect(row).toHaveCount(1);
	await expect(row).toContainText('GET');
	await expect(row).toContainText('127.0.0.1');
	await expect(row).toContainText(/active/i);
	await expect(page.getByRole('link', { name: 'Add a credential' })).toHaveAttribute('href', '/credentials/new');

	await openCredential(page, seed);
	await expect(page.getByText(seed.prefix).first()).toBeVisible();
	await expect(page.getByText(/Authorization: Bearer/).first()).toBeVisible();

	// Cancel keeps it; Delete removes it and goes back to the list.
	await page.getByRole('button', { name: 'Delete credential' }).click();
	const dialog = page.getByRole('dialog');
	await expect(dialog).toBeVisible();
	await dialog.getByRole('button', { name: 'Cancel' }).click();
	await expect(dialog).toBeHidden();
	await page.getByRole('button', { name: 'Delete credential' }).click();
	await page.getByRole('dialog').getByRole('button', { name: 'Delete', exact: true }).click();
	await expect(page).toHaveURL(`${stack().ui}/credentials`);
	await expectHeading(page, 'Credentials');
	await expect(page.getByRole('link', { name: seed.credential, exact: true })).toHaveCount(0);
	const left = await api('GET', `/v1/credentials/${seed.credential}`, undefined, await tokenFor(seed.email));
	expect(left.status).toBe(404);
});

test('"Test a request" answers as the server\'s scope check does', async ({ page, context }) => {
	const seed = await seedCredential('scope');
	await signInContext(context, seed.email);
	const token = await tokenFor(seed.email);
	const { policy } = (await api('GET', `/v1/credentials/${seed.credential}`, undefined, token)).body;
	await openCredential(page, seed);
	const panel = page.locator('section').filter({ has: page.getByRole('heading', { level: 2, name: 'Test a request' }) });
	await expect(panel).toBeVisible();

	const cases = [
		{ url: `${seed.prefix}user`, allowed: true },
		{ url: `${stack().upstream}/other`, allowed: false }
	];
	for (const c of cases) {
		const server = await api('POST', '/v1/scope/check', { policy, method: 'GET', url: c.url }, token);
		expect(server.status, JSON.stringify(server.body)).toBe(200);
		expect(server.body.allowed, c.url).toBe(c.allowed);

		await panel.getByLabel('Method').selectOption('GET');
		await panel.getByLabel('URL', { exact: true }).fill(c.url);
		const asked = page.waitForResponse((r) => r.url().endsWith('/v1/scope/check') && r.request().method() === 'POST');
		await panel.getByRole('button', { name: 'Check' }).click();
		expect((await asked).status()).toBe(200);
		const result = panel.getByRole('status');
		if (c.allowed) {
			await expect(result).toContainText('Allowed');
			await expect(result).not.toContainText('Not allowed');
			await expect(result).toContainText(server.body.url);
		} else {
			await expect(result).toContainText(`Not allowed: ${server.body.reason}`);
		}
	}
	// A method outside the rule is refused too, as the server says.
	const post = await api('POST', '/v1/scope/check', { policy, method: 'POST', url: cases[0]!.url }, token);
	await panel.getByLabel('Method').selectOption('POST');
	await panel.getByLabel('URL', { exact: true }).fill(cases[0]!.url);
	await panel.getByRole('button', { name: 'Check' }).click();
	expect(post.body.allowed).toBe(false);
	await expect(panel.getByRole('status')).toContainText(`Not allowed: ${post.body.reason}`);
});

test('an API error shows its message and request id', async ({ page, context }) => {
	const seed = await seedCredential('reqid');
	await signInContext(context, seed.email);
	await openCredential(page, seed);
	// Deleted behind the page's back: the page's own delete then fails with 404 not_found.
	const gone = await api('DELETE', `/v1/credentials/${seed.credential}`, undefined, await tokenFor(seed.email));
	expect(gone.status).toBe(204);

	await page.getByRole('button', { name: 'Delete credential' }).click();
	const answer = page.waitForResponse((r) => r.url().endsWith(`/v1/credentials/${seed.credential}`)
		&& r.request().method() === 'DELETE');
	await page.getByRole('dialog').getByRole('button', { name: 'Delete', exact: true }).click();
	const res = await answer;
	expect(res.status()).toBe(404);
	const { error } = await res.json();
	expect(error.request_id).toBeTruthy();

	const alert = page.getByRole('alert').filter({ has: page.locator('details') });
	await expect(alert).toBeVisible();
	await expect(alert).toContainText(error.message);
	await alert.locator('summary', { hasText: 'Details' }).click();
	await expect(alert.locator('details')).toContainText('Request id');
	await expect(alert.locator('details code')).toHaveText(error.request_id);
});
