// An agent token made in the UI and used by the real CLI; the brokered request in the audit log;
// revoking an escrow.
import { expect, test } from '@playwright/test';
import {
	agentRequest, api, cli, expectHeading, seedCredential, seedEscrow, setField, signInContext, stack, tokenFor,
	upstreamSeen
} from './helpers';

test('an agent token is shown once, works with the CLI, and its request is in the audit log', async ({ page, context }) => {
	const { ui, upstream } = stack();
	const seed = await seedCredential('agent');
	await signInContext(context, seed.email);
	await page.goto(`${ui}/agent-tokens`);
	await expectHeading(page, 'Agent tokens');
	await expect(page).toHaveTitle('Agent tokens · Aileron');
	await page.getByLabel('Name', { exact: true }).fill('ci-bot');
	await page.getByRole('checkbox', { name: seed.credential, exact: true }).check();
	const created = page.waitForResponse((r) => r.url().endsWith('/v1/agent-tokens') && r.request().method() === 'POST');
	await page.getByRole('button', { name: 'Create token' }).click();
	expect((await created).status()).toBe(201);

	const field = page.getByLabel('Agent token', { exact: true });
	await expect(field).toHaveValue(/\S{20,}/);
	const token = await field.inputValue();
	expect(await field.getAttribute('readonly')).not.toBeNull();
	await expect(page.getByRole('button', { name: 'Copy' })).toBeVisible();
	await expect(page.getByText(`export AILERON_TOKEN=${token}`)).toBeVisible();
	await expect(page.getByRole('button', { name: 'Revoke ci-bot' })).toBeVisible();

	// Shown once: after a reload it is gone for good.
	await page.reload();
	await expectHeading(page, 'Agent tokens');
	await expect(page.getByRole('button', { name: 'Revoke ci-bot' })).toBeVisible();
	await expect(page.getByLabel('Agent token', { exact: true })).toHaveCount(0);
	expect(await page.content()).not.toContain(token);

	// The agent's request: the enclave injects the secret the upstream sees; the agent gets none.
	const path = `/api/x-${Date.now()}`;
	const r = await agentRequest(seed, token, `${upstream}${path}`);
	expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
	expect(r.stdout + r.stderr).not.toContain(seed.secret);
	const seen = (await upstreamSeen()).filter((s) => s.path === path);
	expect(seen).toHaveLength(1);
	expect(seen[0]?.headers.authorization).toBe(`Bearer ${seed.secret}`);

	// The audit log, filtered by action: the request is there, by the agent, without the secret.
	await page.goto(`${ui}/audit`);
	await expectHeading(page, 'Audit log');
	await setField(page.getByLabel('Action', { exact: true }), 'request');
	const listed = page.waitForResponse((res) => {
		const u = new URL(res.url());
		return u.pathname === '/v1/audit' && u.searchParams.get('action') === 'request';
	});
	await page.getByRole('button', { name: 'Apply' }).click();
	const events = (await (await listed).json()).events as { action: string; detail: { path: string } }[];
	expect(events.length).toBeGreaterThan(0);
	expect(events.every((e) => e.action === 'request')).toBe(true);
	const rows = page.getByRole('row').filter({ hasText: path });
	await expect(rows).toHaveCount(1);
	await expect(rows).toContainText('request');
	await expect(rows).toContainText(/agent/i);
	// Only request events are listed.
	const body = page.getByRole('row').filter({ hasNot: page.getByRole('columnheader') });
	for (const text of await body.allTextContents()) expect(text).toContain('request');
	expect(await page.content()).not.toContain(seed.secret);
});

test('an escrow is revoked from the escrows page', async ({ page, context }) => {
	const seed = await seedCredential('escrow');
	await seedEscrow(seed, 'demo');
	const token = await tokenFor(seed.email);
	const before = await api('GET', '/v1/escrows', undefined, token);
	expect(before.body.map((e: { name: string }) => e.name)).toContain('demo');
	await signInContext(context, seed.email);
	await page.goto(`${stack().ui}/escrows`);
	await expectHeading(page, 'Escrows');
	await expect(page).toHaveTitle('Escrows · Aileron');
	const revoke = page.getByRole('button', { name: 'Revoke demo', exact: true });
	await revoke.click();
	const dialog = page.getByRole('dialog');
	const answer = page.waitForResponse((r) => r.url().endsWith('/v1/escrows/demo') && r.request().method() === 'DELETE');
	await dialog.getByRole('button', { name: 'Revoke', exact: true }).click();
	expect((await answer).status()).toBeLessThan(300);
	await expect(revoke).toHaveCount(0);
	const after = await api('GET', '/v1/escrows', undefined, token);
	const demo = after.body.find((e: { name: string; status?: string }) => e.name === 'demo');
	expect(demo === undefined || demo.status !== 'active', JSON.stringify(after.body)).toBe(true);
	// And the escrow no longer brokers anything.
	const agent = await api('POST', '/v1/agent-tokens', { name: 'after-revoke' }, token);
	const r = await agentRequestByName(seed.configDir, agent.body.token, `${seed.prefix}after-revoke`);
	expect(r.code).not.toBe(0);
});

function agentRequestByName(configDir: string, agentToken: string, url: string) {
	return cli(['request', 'GET', url, '--name', 'demo'], {
		configDir,
		env: { AILERON_TOKEN: agentToken, AILERON_SERVER: stack().apiLoopback }
	});
}
