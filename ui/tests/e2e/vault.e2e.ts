// The vault's cryptography in the browser, as a person uses it: set a passphrase (a weak one
// refused), add a credential whose secret is encrypted and escrowed from the page, an agent's
// real brokered request, Lock (agents refused), Unlock (agents served again); changing the
// passphrase; and a wrong passphrase known from GET /v1/vault alone.
import { expect, test } from '@playwright/test';
import {
	api, createVerifiedUser, expectHeading, navLink, PASSPHRASE, seedCredential, signInContext, stack, tokenFor,
	uniqueEmail, upstreamSeen
} from './helpers';
import {
	addCredential, agentGet, agentTokenFor, alertWith, changePassphrase, lock, openVaultPage, plantedSecret,
	RequestLog, setPassphrase, statusWith, strongPassphrase, submitNewPassphrase, submitUnlock, unlock
} from './vault-kit';

const WRONG = 'That passphrase does not open this vault.';

/** The agent's request reached the upstream once, with the secret injected by the enclave. */
async function expectBrokered(credential: string, agentToken: string, secret: string): Promise<void> {
	const path = `/api/journey-${Date.now()}`;
	const r = await agentGet(credential, agentToken, `${stack().upstream}${path}`);
	expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
	expect(r.stdout + r.stderr).not.toContain(secret);
	const seen = (await upstreamSeen()).filter((s) => s.path === path);
	expect(seen).toHaveLength(1);
	expect(seen[0]?.headers.authorization).toBe(`Bearer ${secret}`);
}

/** The agent's request is refused before any upstream sees it: the vault is locked. */
async function expectRefusedLocked(credential: string, agentToken: string): Promise<void> {
	const path = `/api/locked-${Date.now()}`;
	const r = await agentGet(credential, agentToken, `${stack().upstream}${path}`);
	expect(r.code, `${r.stdout}\n${r.stderr}`).not.toBe(0);
	expect(r.stdout + r.stderr).toMatch(/not unlocked|vault_locked/);
	expect((await upstreamSeen()).filter((s) => s.path === path)).toEqual([]);
}

test('a new user sets a passphrase, adds and escrows a credential an agent uses, locks and unlocks', async ({ page, context }) => {
	test.setTimeout(120_000);
	const email = uniqueEmail('vault-journey');
	await createVerifiedUser(email);
	await signInContext(context, email);
	await openVaultPage(page);
	await expect(page.getByRole('heading', { level: 2, name: 'Set a passphrase' })).toBeVisible();

	// A weak passphrase is refused in the page: nothing is derived, nothing is sent.
	const sent = new RequestLog(page);
	await submitNewPassphrase(page, 'password123');
	await expect(alertWith(page, /^This passphrase is too weak/)).toBeVisible();
	expect(await sent.apiCalls()).not.toContain('PUT /v1/vault');
	expect((await api('GET', '/v1/vault', undefined, await tokenFor(email))).body.error.code).toBe('vault_not_set');

	const passphrase = strongPassphrase('journey');
	await setPassphrase(page, passphrase);

	const secret = plantedSecret('journey');
	const name = 'upstream-api';
	await addCredential(page, name, `${stack().upstream}/api/`, secret);
	await expect(statusWith(page, /^Added and escrowed$/)).toBeVisible();

	const agentToken = await agentTokenFor(email, name, 'journey-bot');
	await expectBrokered(name, agentToken, secret);

	await navLink(page, 'Vault').click();
	await expectHeading(page, 'Vault');
	await lock(page);
	await expectRefusedLocked(name, agentToken);

	const summary = await unlock(page, passphrase, 1);
	expect(summary).toMatch(/^Unlocked: 1 credential escrowed, until .+\.$/);
	await expectBrokered(name, agentToken, secret);
});

test('after a change of passphrase the old one is refused and the new one unlocks', async ({ page, context }) => {
	test.setTimeout(120_000);
	const seed = await seedCredential('vault-change');
	await signInContext(context, seed.email);
	await openVaultPage(page);
	await unlock(page, PASSPHRASE, 1);

	const next = strongPassphrase('changed');
	await changePassphrase(page, PASSPHRASE, next);
	await lock(page);

	await submitUnlock(page, PASSPHRASE);
	await expect(alertWith(page, WRONG)).toBeVisible({ timeout: 30_000 });
	await expect(page.getByRole('heading', { level: 2, name: 'Unlock', exact: true })).toBeVisible();

	await unlock(page, next, 1);
	const agentToken = await agentTokenFor(seed.email, seed.credential, 'change-bot');
	await expectBrokered(seed.credential, agentToken, seed.secret);
});

test('a wrong passphrase is refused from GET /v1/vault alone, with no other call', async ({ page, context }) => {
	const seed = await seedCredential('vault-wrong');
	await signInContext(context, seed.email);
	await openVaultPage(page);
	await expect(page.getByRole('heading', { level: 2, name: 'Unlock', exact: true })).toBeVisible();
	await page.waitForLoadState('networkidle');

	const sent = new RequestLog(page);
	await submitUnlock(page, 'a wrong passphrase: violet canyon 42 drifting');
	await expect(alertWith(page, WRONG)).toBeVisible({ timeout: 30_000 });
	// Anything the attempt would still send goes out within this (a call after the alert would be a bug).
	await page.waitForTimeout(1_000);

	const calls = await sent.apiCalls();
	expect(calls).toContain('GET /v1/vault');
	// The session's own upkeep may refresh the 5-second access token (it carries no vault data:
	// only the refresh cookie); nothing else may go to the API.
	expect(calls.filter((c) => c !== 'GET /v1/vault' && c !== 'POST /auth/refresh'), calls.join('\n')).toEqual([]);
	// Elsewhere only the page's own static files (the key-derivation worker).
	const others = (await sent.settled()).filter((r) => !r.url.startsWith(`${stack().api}/`));
	for (const r of others) expect(`${r.method} ${r.url}`).toMatch(new RegExp(`^GET ${stack().ui}/_app/`));
});
