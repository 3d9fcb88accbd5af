// What the vault's browser tests share: the /vault page's steps as a person takes them (set a
// passphrase, unlock, lock, change it), adding a credential on /credentials/new, an agent's
// brokered request with the real CLI, a recorder of every request a page sends, and the forms a
// planted value could take on a wire or in storage (as host/tests/common/e2e.rs `encodings`).
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { expect, type BrowserContext, type Locator, type Page, type Request, type Response } from '@playwright/test';
import { api, cli, expectHeading, navLink, stack, tokenFor, type CliResult } from './helpers';

/**
 * Not the 401 of an access token that expired on the way (the stack's live 5 seconds): the app
 * refreshes and sends the call again, and that answer is the one that counts.
 */
function settledAnswer(r: Response): boolean {
	return r.status() !== 401;
}

/** A passphrase the strength meter accepts; `tag` keeps it unique to a test. */
export function strongPassphrase(tag: string): string {
	return `${tag} vault passphrase ${randomBytes(4).toString('hex')} copper lantern drifts north`;
}

/** A secret no page, log or table could hold by chance. */
export function plantedSecret(tag: string): string {
	return `planted-${tag}-${randomBytes(9).toString('base64url')}-do-not-show`;
}

/** The /vault page, loaded afresh (a full load forgets any key this tab held). */
export async function openVaultPage(page: Page): Promise<void> {
	await page.goto(`${stack().ui}/vault`);
	await expectHeading(page, 'Vault');
}

/** The page's status or alert that reads `text` (several status regions may be on a page). */
export function statusWith(page: Page, text: string | RegExp): Locator {
	return page.getByRole('status').filter({ hasText: text });
}

export function alertWith(page: Page, text: string | RegExp): Locator {
	return page.getByRole('alert').filter({ hasText: text });
}

/** "Set a passphrase": both fields, then the button (the caller checks what follows). */
export async function submitNewPassphrase(page: Page, passphrase: string): Promise<void> {
	const card = page.locator('section').filter({ has: page.getByRole('heading', { level: 2, name: 'Set a passphrase' }) });
	await card.getByLabel('Passphrase', { exact: true }).fill(passphrase);
	await card.getByLabel('Confirm passphrase', { exact: true }).fill(passphrase);
	await card.getByRole('button', { name: 'Set passphrase', exact: true }).click();
}

/** Sets the vault's passphrase on /vault (already showing "Set a passphrase"). */
export async function setPassphrase(page: Page, passphrase: string): Promise<void> {
	const put = page.waitForResponse((r) => settledAnswer(r) && r.url() === `${stack().api}/v1/vault` && r.request().method() === 'PUT');
	await submitNewPassphrase(page, passphrase);
	expect((await put).status()).toBeLessThan(300);
	await expect(statusWith(page, 'Vault set up.')).toBeVisible();
	await expect(page.getByRole('heading', { level: 2, name: 'Lock', exact: true })).toBeVisible();
}

/** The unlock form of /vault (or of the unlock dialog when `within` is it): fill and submit. */
export async function submitUnlock(page: Page, passphrase: string, within: Locator | Page = page): Promise<void> {
	await within.getByLabel('Passphrase', { exact: true }).fill(passphrase);
	await within.getByRole('button', { name: 'Unlock', exact: true }).click();
}

/** Unlocks on /vault and returns the summary, e.g. "Unlocked: 1 credential escrowed, until …". */
export async function unlock(page: Page, passphrase: string, escrowed: number): Promise<string> {
	await submitUnlock(page, passphrase);
	const noun = escrowed === 1 ? 'credential' : 'credentials';
	const summary = statusWith(page, `Unlocked: ${escrowed} ${noun} escrowed, until `);
	await expect(summary).toBeVisible({ timeout: 30_000 });
	return (await summary.innerText()).trim();
}

/** "Lock" on /vault (open in this tab): the server revokes the escrows, the tab forgets the key. */
export async function lock(page: Page): Promise<void> {
	const answer = page.waitForResponse((r) => settledAnswer(r) && r.url() === `${stack().api}/v1/vault/lock` && r.request().method() === 'POST');
	await page.getByRole('button', { name: 'Lock', exact: true }).click();
	expect((await answer).status()).toBeLessThan(300);
	await expect(statusWith(page, /^Vault locked: \d+ escrows? revoked\./)).toBeVisible();
	await expect(page.getByRole('heading', { level: 2, name: 'Unlock', exact: true })).toBeVisible();
}

/** "Change passphrase" on /vault (open in this tab). */
export async function changePassphrase(page: Page, current: string, next: string): Promise<void> {
	const card = page.locator('section').filter({ has: page.getByRole('heading', { level: 2, name: 'Change passphrase' }) });
	await card.getByLabel('Current passphrase', { exact: true }).fill(current);
	await card.getByLabel('New passphrase', { exact: true }).fill(next);
	await card.getByLabel('Confirm new passphrase', { exact: true }).fill(next);
	const posted = page.waitForResponse((r) => settledAnswer(r) && r.url() === `${stack().api}/v1/vault/passphrase` && r.request().method() === 'POST');
	await card.getByRole('button', { name: 'Change passphrase', exact: true }).click();
	expect((await posted).status()).toBeLessThan(300);
	await expect(statusWith(page, 'Passphrase changed. The old one no longer opens the vault.')).toBeVisible();
}

/**
 * Adds a bearer credential allowed for `GET <prefix>` with `secret` on /credentials/new, reached
 * by the app's own links so that the vault this tab opened stays open; lands on its page.
 */
export async function addCredential(page: Page, name: string, prefix: string, secret: string): Promise<void> {
	await navLink(page, 'Credentials').click();
	await expectHeading(page, 'Credentials');
	await page.getByRole('link', { name: 'Add a credential' }).click();
	await expectHeading(page, 'Add a credential');
	const form = page.locator('#credential-form');
	await form.getByLabel('Name', { exact: true }).fill(name);
	// A select's accessible name is its label's text with the chosen option's: "Kind Bearer token".
	await form.getByRole('combobox', { name: /^Kind\b/ }).selectOption('bearer');
	await form.getByRole('checkbox', { name: 'GET', exact: true }).check();
	await form.getByLabel('URL prefix', { exact: true }).fill(prefix);
	await form.getByLabel('Secret', { exact: true }).fill(secret);
	await form.getByRole('button', { name: 'Add credential', exact: true }).click();
	await expect(page).toHaveURL(`${stack().ui}/credentials/${name}`, { timeout: 30_000 });
	await expectHeading(page, name);
}

/** An agent token for `email`, allowed to use `credential` (made through the API). */
export async function agentTokenFor(email: string, credential: string, tokenName: string): Promise<string> {
	const made = await api('POST', '/v1/agent-tokens', { name: tokenName, credentials: [credential] }, await tokenFor(email));
	expect(made.status, JSON.stringify(made.body)).toBe(201);
	return made.body.token as string;
}

/** `aileron request GET <url> --credential NAME` with AILERON_TOKEN, as an agent runs it. */
export function agentGet(credential: string, agentToken: string, url: string): Promise<CliResult> {
	const configDir = mkdtempSync(path.join(stack().work, 'agent-'));
	return cli(['request', 'GET', url, '--credential', credential], {
		configDir,
		env: { AILERON_TOKEN: agentToken, AILERON_SERVER: stack().apiLoopback }
	});
}

/** One request a page sent: everything that could carry a value off the page. */
export interface SentRequest {
	method: string;
	url: string;
	headers: Record<string, string>;
	body: Buffer | null;
}

/** Records every request the context's pages (and their workers) send, from now on. */
export class RequestLog {
	readonly sent: SentRequest[] = [];
	#pending: Promise<void>[] = [];

	constructor(target: BrowserContext | Page) {
		target.on('request', (req: Request) => {
			// allHeaders() adds what the network stack set (cookies); headers() if the page went away.
			this.#pending.push(req.allHeaders().catch(() => req.headers()).then((headers) => {
				this.sent.push({ method: req.method(), url: req.url(), headers, body: req.postDataBuffer() });
			}));
		});
	}

	/** Every request seen so far, with its headers read. */
	async settled(): Promise<SentRequest[]> {
		await Promise.all(this.#pending);
		return this.sent;
	}

	/** The API calls among them, as "METHOD /path". */
	async apiCalls(): Promise<string[]> {
		const api = stack().api;
		return (await this.settled())
			.filter((r) => r.url.startsWith(`${api}/`))
			.map((r) => `${r.method} ${new URL(r.url).pathname}`);
	}
}

/** A request as one text: method, URL, every header, the body. */
export function asText(r: SentRequest): Buffer {
	const head = [`${r.method} ${r.url}`, ...Object.entries(r.headers).map(([k, v]) => `${k}: ${v}`)].join('\n');
	return Buffer.concat([Buffer.from(`${head}\n\n`), r.body ?? Buffer.alloc(0)]);
}

/**
 * The forms a value could take on the wire or in storage, as host/tests/common/e2e.rs
 * `encodings` lists them: raw, JSON-escaped, base64 and base64url (padded or not), hex (both
 * cases), percent-encoded (every byte but the unreserved ones, with `%20` or `+` for a space),
 * and encodeURIComponent's spelling, which a page would use.
 */
export function encodings(value: string): string[] {
	const bytes = Buffer.from(value, 'utf8');
	const json = JSON.stringify(value);
	const percent = [...bytes]
		.map((b) => (/[A-Za-z0-9\-._~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`))
		.join('');
	const base64 = bytes.toString('base64');
	const base64url = bytes.toString('base64url');
	const forms = [
		value,
		json.slice(1, -1),
		base64,
		base64.replace(/=+$/, ''),
		base64url,
		base64url + '='.repeat((4 - (base64url.length % 4)) % 4),
		bytes.toString('hex'),
		bytes.toString('hex').toUpperCase(),
		percent,
		percent.replaceAll('%20', '+'),
		encodeURIComponent(value)
	];
	return [...new Set(forms)];
}

/** The first form of `value` found in `haystack`, if any. */
export function leaked(haystack: Buffer | string, value: string): string | undefined {
	const hay = typeof haystack === 'string' ? Buffer.from(haystack, 'utf8') : haystack;
	return encodings(value).find((form) => hay.includes(Buffer.from(form, 'utf8')));
}
