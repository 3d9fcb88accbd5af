// A server that lies is caught by the page. A test double sits in front of the real server: the
// browser's API calls go through page.route, which forwards each to the real server and alters
// one field of one answer. (a) A credential's policy widened by the server: the credential's
// ciphertext binds its policy, so it opens with no rules but its own and is neither escrowed nor
// rotated. (b) Another enclave's HPKE key relayed in the attestation answer: the key is bound to
// the attested boot, so the attestation is refused and nothing is sealed.
import { generateKeyPairSync } from 'node:crypto';
import { expect, test, type Page } from '@playwright/test';
import { cli, expectHeading, navLink, PASSPHRASE, seedCredential, signInContext, stack, type Seeded } from './helpers';
import {
	addCredential, alertWith, openVaultPage, plantedSecret, RequestLog, statusWith, submitUnlock, unlock
} from './vault-kit';

/** Answers of `method url` come from the real server with `alter` applied; returns how many. */
async function alterAnswers(page: Page, method: string, url: string, alter: (body: unknown) => unknown): Promise<{ count: number }> {
	const altered = { count: 0 };
	await page.route((u) => u.href === url, async (route) => {
		if (route.request().method() !== method) return route.fallback();
		const response = await route.fetch();
		// An expired access token's 401 passes as it is: the app refreshes and asks again.
		if (!response.ok()) return route.fulfill({ response });
		const body = alter(await response.json());
		altered.count += 1;
		await route.fulfill({ response, json: body });
	});
	return altered;
}

interface StoredCredential {
	name: string;
	policy: string;
}

/** The stored policy text with the rule's prefix widened to the whole upstream, nothing else changed. */
function widened(policy: string, seed: Seeded): string {
	const wide = policy.replace(seed.prefix, `${stack().upstream}/`);
	expect(wide, 'the policy names the prefix to widen').not.toBe(policy);
	return wide;
}

/** The escrow and rotation calls for `name` the page sent. */
async function sealingCalls(log: RequestLog, name: string): Promise<string[]> {
	return (await log.apiCalls()).filter((c) => c === `POST /v1/credentials/${name}/escrow` || c === `PUT /v1/credentials/${name}`);
}

test('a policy the server widened is neither escrowed nor rotated, and the page says why', async ({ page, context }) => {
	test.setTimeout(120_000);
	const seed = await seedCredential('tamper-policy');
	// A second credential the double leaves alone: the page escrows it through the same double.
	const other = await cli(['credential', 'add', '--name', 'untouched', '--allow', `GET ${seed.prefix}`],
		{ configDir: seed.configDir, stdin: `${PASSPHRASE}\n${plantedSecret('untouched')}\n` });
	expect(other.code, other.stdout + other.stderr).toBe(0);
	await signInContext(context, seed.email);
	const { api } = stack();
	const list = await alterAnswers(page, 'GET', `${api}/v1/credentials`, (body) =>
		(body as StoredCredential[]).map((c) => (c.name === seed.credential ? { ...c, policy: widened(c.policy, seed) } : c)));
	const one = await alterAnswers(page, 'GET', `${api}/v1/credentials/${seed.credential}`, (body) => {
		const c = body as StoredCredential;
		return { ...c, policy: widened(c.policy, seed) };
	});

	await openVaultPage(page);
	const sent = new RequestLog(page);
	const summary = await unlock(page, PASSPHRASE, 1);
	expect(list.count).toBeGreaterThan(0);
	expect(summary).toContain('Not escrowed:');
	expect(summary).toContain(`${seed.credential}: it does not open with its rules: the server changed its policy, version or ciphertext, so it was not escrowed`);
	expect(await sealingCalls(sent, seed.credential)).toEqual([]);
	expect(await sent.apiCalls()).toContain('POST /v1/credentials/untouched/escrow');

	// Rotating it: the stored credential is opened first, with the policy the server now shows.
	await navLink(page, 'Credentials').click();
	await page.getByRole('link', { name: seed.credential, exact: true }).click();
	await expectHeading(page, seed.credential);
	await expect(page.getByText(`${stack().upstream}/`, { exact: true })).toBeVisible();
	expect(one.count).toBeGreaterThan(0);
	await page.getByRole('button', { name: 'Rotate secret', exact: true }).click();
	const dialog = page.getByRole('dialog');
	await dialog.getByLabel('New secret', { exact: true }).fill(plantedSecret('rotated'));
	await dialog.getByRole('button', { name: 'Save', exact: true }).click();
	await expect(alertWith(page, /^A credential was altered by the server: /)).toBeVisible({ timeout: 30_000 });
	expect(await sealingCalls(sent, seed.credential)).toEqual([]);
});

/** An X25519 public key of no enclave, as the answer spells one: 32 bytes, unpadded base64url. */
function strangersKey(): string {
	const { x } = generateKeyPairSync('x25519').publicKey.export({ format: 'jwk' });
	if (!x) throw new Error('no x25519 public key');
	return x;
}

test('an attestation answer relaying another enclave\'s key is refused and nothing is sealed', async ({ page, context }) => {
	test.setTimeout(120_000);
	const seed = await seedCredential('tamper-key');
	await signInContext(context, seed.email);
	const { api } = stack();
	const stranger = strangersKey();
	const swap = (body: unknown) => {
		const answer = body as { hpke_public_key: string };
		expect(answer.hpke_public_key).not.toBe(stranger);
		return { ...answer, hpke_public_key: stranger };
	};
	const swapped = await alterAnswers(page, 'POST', `${api}/v1/tee/attestation`, swap);
	// The stranger's key is not in the attested binding: the token lacks the binding the answer claims.
	const refused = /^The enclave's attestation was refused: nonce: `eat_nonce` lacks \[".+"\]\.$/;

	await openVaultPage(page);
	const sent = new RequestLog(page);
	await submitUnlock(page, PASSPHRASE);
	await expect(alertWith(page, refused)).toBeVisible({ timeout: 30_000 });
	expect(swapped.count).toBe(1);
	expect((await sent.apiCalls()).filter((c) => c.endsWith('/escrow'))).toEqual([]);
	await expect(page.getByRole('heading', { level: 2, name: 'Unlock', exact: true })).toBeVisible();

	// Control: the real answer, relayed unaltered, passes the same check.
	await page.unrouteAll({ behavior: 'wait' });
	await unlock(page, PASSPHRASE, 1);

	// Adding a credential: stored (encrypted here), but not sealed to the stranger's key.
	const again = await alterAnswers(page, 'POST', `${api}/v1/tee/attestation`, swap);
	await addCredential(page, 'added-later', seed.prefix, plantedSecret('later'));
	const flash = statusWith(page, /^Added \(not escrowed: The enclave's attestation was refused: nonce: `eat_nonce` lacks \[".+"\]\.\)$/);
	await expect(flash).toBeVisible();
	expect(again.count).toBe(1);
	expect(await sent.apiCalls()).toContain('POST /v1/credentials');
	expect(await sent.apiCalls()).not.toContain('POST /v1/credentials/added-later/escrow');
});
