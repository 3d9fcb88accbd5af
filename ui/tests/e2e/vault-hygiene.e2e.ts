// A planted passphrase and planted secrets never leave the page: through setting the passphrase,
// adding a credential, locking, unlocking and rotating its secret, every request the page sent
// (URL, every header, body) holds none of them in any common encoding; nor do the server's and
// the enclave's logs, nor a dump of the run's database. Each "nothing leaked" has its positive
// control: the requests, logs and dump checked hold what was done, and the upstream did receive
// each secret through an agent's request.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';
import { createVerifiedUser, expectHeading, navLink, signInContext, stack, uniqueEmail, upstreamSeen } from './helpers';
import {
	addCredential, agentGet, agentTokenFor, asText, encodings, leaked, lock, openVaultPage, plantedSecret, RequestLog, setPassphrase,
	statusWith, strongPassphrase, unlock
} from './vault-kit';

const run = promisify(execFile);

/** pg_dump of the run's database (Debian's wrapper, else the newest installed version). */
async function dumpDatabase(): Promise<string> {
	const candidates = ['/usr/bin/pg_dump', ...['17', '16', '15', '14'].map((v) => `/usr/lib/postgresql/${v}/bin/pg_dump`)];
	const pgDump = candidates.find((c) => existsSync(c));
	if (!pgDump) throw new Error('pg_dump is not installed');
	const { stdout } = await run(pgDump, ['--no-owner', stack().databaseUrl], { maxBuffer: 256 * 1024 * 1024 });
	return stdout;
}

/** Both streams of a stack process's log, as written so far. */
function processLog(name: string): string {
	return ['out', 'log'].map((ext) => path.join(stack().work, `${name}.${ext}`))
		.filter((f) => existsSync(f)).map((f) => readFileSync(f, 'utf8')).join('\n');
}

/** An agent's request reached the upstream with `secret` injected. */
async function expectUpstreamGot(name: string, agentToken: string, secret: string): Promise<void> {
	const at = `/api/hygiene-${Date.now()}`;
	const r = await agentGet(name, agentToken, `${stack().upstream}${at}`);
	expect(r.code, r.stdout + r.stderr).toBe(0);
	const seen = (await upstreamSeen()).filter((s) => s.path === at);
	expect(seen.map((s) => s.headers.authorization)).toEqual([`Bearer ${secret}`]);
}

test('the planted passphrase and secrets are in no request, log or table', async ({ page, context }) => {
	test.setTimeout(150_000);
	const email = uniqueEmail('vault-hygiene');
	await createVerifiedUser(email);
	await signInContext(context, email);
	const sent = new RequestLog(context);
	const passphrase = strongPassphrase('planted');
	const secret = plantedSecret('first');
	const rotated = plantedSecret('rotated');
	const name = 'hygiene';

	// Set, add (escrowed at once), lock, unlock, rotate (escrowed at once).
	await openVaultPage(page);
	await setPassphrase(page, passphrase);
	await addCredential(page, name, `${stack().upstream}/api/`, secret);
	await expect(statusWith(page, /^Added and escrowed$/)).toBeVisible();
	const agentToken = await agentTokenFor(email, name, 'hygiene-bot');
	await expectUpstreamGot(name, agentToken, secret);
	await navLink(page, 'Vault').click();
	await expectHeading(page, 'Vault');
	await lock(page);
	await unlock(page, passphrase, 1);
	await navLink(page, 'Credentials').click();
	await page.getByRole('link', { name, exact: true }).click();
	await expectHeading(page, name);
	await page.getByRole('button', { name: 'Rotate secret', exact: true }).click();
	await page.getByRole('dialog').getByLabel('New secret', { exact: true }).fill(rotated);
	await page.getByRole('dialog').getByRole('button', { name: 'Save', exact: true }).click();
	await expect(statusWith(page, /^Secret rotated and escrowed$/)).toBeVisible({ timeout: 30_000 });
	await expectUpstreamGot(name, agentToken, rotated);

	const planted = { 'the passphrase': passphrase, 'the first secret': secret, 'the rotated secret': rotated };
	// The checker itself finds every form it lists, inside other text.
	for (const form of encodings(passphrase)) expect(leaked(`{"x":"${form}"}`, passphrase)).toBeDefined();
	const bytes = Buffer.from(passphrase, 'utf8');
	expect(encodings(passphrase)).toEqual(expect.arrayContaining([passphrase, bytes.toString('base64'),
		bytes.toString('base64url'), bytes.toString('hex'), encodeURIComponent(passphrase), passphrase.replaceAll(' ', '+')]));

	// The page's requests: they are the steps above, carrying the wrapped key and ciphertexts.
	const requests = await sent.settled();
	const calls = await sent.apiCalls();
	for (const call of ['PUT /v1/vault', 'GET /v1/vault', 'POST /v1/credentials', `POST /v1/credentials/${name}/escrow`,
		'POST /v1/tee/attestation', 'POST /v1/vault/lock', `PUT /v1/credentials/${name}`]) {
		expect(calls, `the page sent ${call}`).toContain(call);
	}
	const wire = Buffer.concat(requests.map(asText));
	expect(wire.includes('"wrapped_key"') && wire.includes('"ciphertext"') && wire.includes('cookie: ')).toBe(true);
	for (const r of requests) {
		for (const [what, value] of Object.entries(planted)) {
			expect(leaked(asText(r), value), `${what} in ${r.method} ${r.url}`).toBeUndefined();
		}
	}

	// The server's log holds every request (tower-http at debug), and no planted value.
	const serverLog = processLog('server');
	expect(serverLog).toContain(`/v1/credentials/${name}/escrow`);
	expect(serverLog).toContain('DEBUG');
	const enclaveLog = processLog('enclave');
	expect(enclaveLog).toContain('listening');
	for (const [what, value] of Object.entries({ ...planted, 'the agent token': agentToken })) {
		expect(leaked(serverLog, value), `${what} in the server's log`).toBeUndefined();
	}
	for (const [what, value] of Object.entries(planted)) {
		expect(leaked(enclaveLog, value), `${what} in the enclave's log`).toBeUndefined();
	}

	// The database holds this user's vault and credential, and no planted value.
	const dump = await dumpDatabase();
	expect(dump).toContain('wrapped_key');
	expect(dump).toContain(email);
	expect(dump).toContain(`${stack().upstream}/api/`);
	for (const [what, value] of Object.entries({ ...planted, 'the agent token': agentToken })) {
		expect(leaked(dump, value), `${what} in the database`).toBeUndefined();
	}
});
