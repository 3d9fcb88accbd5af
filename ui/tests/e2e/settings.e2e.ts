// The security page (the local enclave's attestation claims, and the fleet table when the
// server reports more than one enclave) and the settings page's organisation section, which only
// owners and admins see.
import { expect, test } from '@playwright/test';
import { api, createVerifiedUser, expectHeading, signedInUser, signInContext, sql, stack, tokenFor, uniqueEmail } from './helpers';

test('the security page shows the local enclave\'s claims', async ({ page, context }) => {
	await signedInUser(context, 'security');
	await page.goto(`${stack().ui}/security`);
	await expectHeading(page, 'Security');
	await expect(page).toHaveTitle('Security · Aileron');
	const main = page.getByRole('main');
	await expect(main).toContainText(/local/i);
	for (const label of ['Image digest', 'Hardware model', 'Debug', 'Support attributes', 'Software version', 'Token expires']) {
		await expect(main.getByText(label, { exact: true }).first(), label).toBeVisible();
	}
	await expect(main.getByText('LOCAL_INSECURE').first()).toBeVisible();
	const hex = stack().enclaveDigest.replace('sha256:', '');
	await expect(main).toContainText(hex);
	// One enclave: no fleet table, no "Your enclave" row.
	await expect(main.getByRole('heading', { level: 2, name: 'Enclave fleet' })).toHaveCount(0);
	await expect(main.getByText('Your enclave', { exact: true })).toHaveCount(0);
});

test('the security page lists an enclave fleet and marks the user\'s own', async ({ page, context }) => {
	await signedInUser(context, 'fleet');
	// The real answer, with a second enclave after the user's own, which is down.
	const url = `${stack().api}/v1/tee/status`;
	let real: { enclave?: string; ids: string[] } | undefined;
	await page.route((u) => u.href === url, async (route) => {
		const response = await route.fetch();
		if (!response.ok()) return route.fulfill({ response });
		const tee = await response.json();
		real ??= { enclave: tee.enclave, ids: tee.enclaves.map((e: { id: string }) => e.id) };
		tee.enclaves.push({ id: '0123456789ab', attested: false, reason: 'the enclave does not answer' });
		await route.fulfill({ response, json: tee });
	});
	await page.setViewportSize({ width: 375, height: 740 });
	await page.goto(`${stack().ui}/security`);
	await expectHeading(page, 'Security');
	const main = page.getByRole('main');
	await expect(main.getByRole('heading', { level: 2, name: 'Enclave fleet' })).toBeVisible();
	const table = main.getByRole('table', { name: 'Enclave fleet' });
	const rows = table.getByRole('row');
	await expect(rows).toHaveCount(3);
	await expect(rows.nth(1)).toContainText('yours');
	await expect(rows.nth(1)).toContainText('Attested');
	await expect(rows.nth(2)).toContainText('0123456789ab');
	await expect(rows.nth(2)).toContainText('Unavailable');
	await expect(rows.nth(2)).toContainText('the enclave does not answer');
	await expect(rows.nth(2)).not.toContainText('yours');
	await expect(main.getByText('Your enclave', { exact: true })).toBeVisible();
	expect(real, 'the status was read through the route').toBeDefined();
	expect(real?.ids, 'the stack runs one enclave').toHaveLength(1);
	const own = real?.ids[0] ?? '';
	expect(real?.enclave, 'the user\'s enclave is the one enclave').toBe(own);
	await expect(rows.nth(1)).toContainText(own);
	const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
	expect(overflow, 'the security page scrolls sideways at 375px').toBeLessThanOrEqual(1);
});

test('an owner sees and renames the organisation; a member does not see it', async ({ page, context }) => {
	const email = uniqueEmail('owner');
	await createVerifiedUser(email);
	await signInContext(context, email);
	await page.goto(`${stack().ui}/settings`);
	await expectHeading(page, 'Settings');
	await expect(page.getByRole('heading', { level: 2, name: 'Profile' })).toBeVisible();
	await expect(page.getByRole('heading', { level: 2, name: 'Sign-in methods' })).toBeVisible();
	await expect(page.getByRole('heading', { level: 2, name: 'Organisation' })).toBeVisible();
	const name = `Acme UI ${Date.now()}`;
	await page.getByLabel('Organisation name').fill(name);
	const saved = page.waitForResponse((r) => r.url().endsWith('/v1/enterprises/me') && r.request().method() === 'PATCH');
	await page.locator('section, form').filter({ has: page.getByLabel('Organisation name') })
		.getByRole('button', { name: 'Save' }).first().click();
	expect((await saved).status()).toBe(200);
	expect((await api('GET', '/v1/enterprises/me', undefined, await tokenFor(email))).body.name).toBe(name);

	// Sign-up makes owners only (members join by invitation, which does not exist yet): the
	// test makes this user a member in the database. The server reads the role from there.
	await sql(`UPDATE users SET role = 'member' WHERE email = '${email}'`);
	expect((await api('GET', '/v1/users/me', undefined, await tokenFor(email))).body.role).toBe('member');
	await page.reload();
	await expectHeading(page, 'Settings');
	await expect(page.getByRole('heading', { level: 2, name: 'Profile' })).toBeVisible();
	await expect(page.getByRole('heading', { level: 2, name: 'Organisation' })).toHaveCount(0);
	await expect(page.getByLabel('Organisation name')).toHaveCount(0);
	const refused = await api('PATCH', '/v1/enterprises/me', { name: 'taken over' }, await tokenFor(email));
	expect(refused.status).toBe(403);
});
