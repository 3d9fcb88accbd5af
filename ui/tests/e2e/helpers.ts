// What the browser tests share: the stack's addresses, users made through the real API (the
// mailed code read from the mail recorder), sessions for a browser context, the real CLI for
// seeding a vault and a credential, small readers of the recorders, and the accessibility scan.
import AxeBuilder from '@axe-core/playwright';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect, type BrowserContext, type Locator, type Page } from '@playwright/test';
import type { Mail, SeenRequest } from './recorders';
import type { StackInfo } from './stack';

export const PASSWORD = 'correct horse battery staple 42';
export const PASSPHRASE = 'ui test vault passphrase: amber heron 7731';

let cached: StackInfo | undefined;
export function stack(): StackInfo {
	if (!cached) {
		const raw = process.env.AILERON_E2E_STACK;
		if (!raw) throw new Error('AILERON_E2E_STACK is unset: run through playwright.config.ts');
		cached = JSON.parse(raw) as StackInfo;
	}
	return cached;
}

let counter = 0;
/** A fresh address per call, unique across workers and runs. */
export function uniqueEmail(tag: string): string {
	counter += 1;
	return `${tag}-${process.pid}-${Date.now().toString(36)}-${counter}@example.com`;
}

/** The newest six-digit code mailed to `email`, waiting for it (mail is sent in the background). */
export async function latestCode(email: string, notBefore = 0): Promise<string> {
	let code = '';
	await expect
		.poll(async () => {
			const res = await fetch(`${stack().mail}/__messages?to=${encodeURIComponent(email)}`);
			const mails = (await res.json()) as Mail[];
			if (mails.length <= notBefore) return '';
			code = /\b(\d{6})\b/.exec(mails.at(-1)?.text ?? '')?.[1] ?? '';
			return code;
		}, { message: `a code mailed to ${email}`, timeout: 15_000 })
		.not.toBe('');
	return code;
}

export async function mailCount(email: string): Promise<number> {
	const res = await fetch(`${stack().mail}/__messages?to=${encodeURIComponent(email)}`);
	return ((await res.json()) as Mail[]).length;
}

/** A JSON call to the API from node (no browser, no cookies). */
export async function api(method: string, pathname: string, body?: unknown, token?: string) {
	const headers: Record<string, string> = { 'content-type': 'application/json' };
	if (token) headers.authorization = `Bearer ${token}`;
	const res = await fetch(`${stack().apiLoopback}${pathname}`, {
		method,
		headers,
		body: body === undefined ? undefined : JSON.stringify(body)
	});
	const text = await res.text();
	return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

/** Signs up and verifies `email` through the API; returns an access token (delivery "body"). */
export async function createVerifiedUser(email: string, displayName?: string): Promise<string> {
	const signup = await api('POST', '/auth/signup', { email, password: PASSWORD, display_name: displayName });
	expect(signup.status, JSON.stringify(signup.body)).toBe(202);
	const code = await latestCode(email);
	const verified = await api('POST', '/auth/verify-email', { email, code, delivery: 'body' });
	expect(verified.status, JSON.stringify(verified.body)).toBe(200);
	return verified.body.access_token as string;
}

/** Signs `context` in as `email` through the API (cookies land in the browser context). */
export async function signInContext(context: BrowserContext, email: string): Promise<void> {
	const res = await context.request.post(`${stack().api}/auth/login`, {
		data: { email, password: PASSWORD },
		headers: { origin: stack().ui }
	});
	expect(res.status(), await res.text()).toBe(200);
}

/** A fresh user whose browser context is signed in. */
export async function signedInUser(context: BrowserContext, tag: string): Promise<string> {
	const email = uniqueEmail(tag);
	await createVerifiedUser(email);
	await signInContext(context, email);
	return email;
}

export interface CliResult {
	code: number;
	stdout: string;
	stderr: string;
}

/** Runs the real `aileron` CLI with `stdin`, a per-user config directory and extra env. */
export function cli(args: string[], opts: { configDir: string; stdin?: string; env?: Record<string, string> }): Promise<CliResult> {
	return new Promise((resolve, reject) => {
		const child = spawn(path.join(stack().bin, 'aileron'), args, {
			env: {
				PATH: process.env.PATH,
				HOME: process.env.HOME,
				AILERON_CONFIG_DIR: opts.configDir,
				...opts.env
			},
			stdio: ['pipe', 'pipe', 'pipe']
		});
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', (d) => (stdout += d));
		child.stderr.on('data', (d) => (stderr += d));
		child.on('error', reject);
		child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
		child.stdin.end(opts.stdin ?? '');
	});
}

async function cliOk(args: string[], opts: Parameters<typeof cli>[1]): Promise<CliResult> {
	const r = await cli(args, opts);
	expect(r.code, `aileron ${args.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(0);
	return r;
}

export interface Seeded {
	email: string;
	configDir: string;
	credential: string;
	secret: string;
	/** The rule's URL prefix on the recording upstream. */
	prefix: string;
}

/**
 * A user with a vault and one credential, made by the real CLI: sign in (saving the local
 * attestation policy and root), set the vault's passphrase, add a bearer credential allowed for
 * `GET <upstream>/api/` (encrypted by the CLI, escrowed into the enclave at once).
 */
export async function seedCredential(tag: string, name = 'github'): Promise<Seeded> {
	const s = stack();
	const email = uniqueEmail(tag);
	await createVerifiedUser(email);
	const configDir = mkdtempSync(path.join(s.work, 'cli-'));
	const opts = { configDir };
	await cliOk(['login', '--server', s.apiLoopback, '--email', email, '--policy', s.policyFile,
		'--root', path.join(s.caDir, 'root.pem')], { ...opts, stdin: `${PASSWORD}\n` });
	await cliOk(['vault', 'set'], { ...opts, stdin: `${PASSPHRASE}\n` });
	const secret = `planted-secret-${Math.random().toString(36).slice(2)}-do-not-show`;
	const prefix = `${s.upstream}/api/`;
	await cliOk(['credential', 'add', '--name', name, '--allow', `GET ${prefix}`],
		{ ...opts, stdin: `${PASSPHRASE}\n${secret}\n` });
	return { email, configDir, credential: name, secret, prefix };
}

/** What the recording upstream has seen so far. */
export async function upstreamSeen(): Promise<SeenRequest[]> {
	return (await (await fetch(`${stack().upstream}/__seen`)).json()) as SeenRequest[];
}

const run = promisify(execFile);
/** One SQL statement against the run's database (psql). For states the API cannot make. */
export async function sql(statement: string): Promise<string> {
	const { stdout } = await run('psql', ['-qtA', stack().databaseUrl, '-c', statement]);
	return stdout.trim();
}

/** The page's single h1, once it reads `name`. */
export async function expectHeading(page: Page, name: string | RegExp): Promise<void> {
	await expect(page.getByRole('heading', { level: 1, name })).toBeVisible();
}

/** Every signed-in page: its path, its h1 and the title's page name. */
export const PAGES: { name: string; path: string; h1: string | RegExp }[] = [
	{ name: 'overview', path: '/', h1: 'Overview' },
	{ name: 'vault', path: '/vault', h1: 'Vault' },
	{ name: 'credentials', path: '/credentials', h1: 'Credentials' },
	{ name: 'credential', path: '/credentials/github', h1: 'github' },
	{ name: 'credential-new', path: '/credentials/new', h1: 'Add a credential' },
	{ name: 'agent-tokens', path: '/agent-tokens', h1: 'Agent tokens' },
	{ name: 'escrows', path: '/escrows', h1: 'Escrows' },
	{ name: 'audit', path: '/audit', h1: 'Audit log' },
	{ name: 'security', path: '/security', h1: 'Security' },
	{ name: 'settings', path: '/settings', h1: 'Settings' }
];

/** The pages one reaches signed out. */
export const PUBLIC_PAGES: { name: string; path: string; h1: string }[] = [
	{ name: 'sign-in', path: '/sign-in', h1: 'Sign in' },
	{ name: 'sign-up', path: '/sign-up', h1: 'Create an account' }
];

/** A fresh API access token for `email` (node side; the browser's cookies are its own). */
export async function tokenFor(email: string): Promise<string> {
	const res = await api('POST', '/auth/login', { email, password: PASSWORD, delivery: 'body' });
	expect(res.status, JSON.stringify(res.body)).toBe(200);
	return res.body.access_token as string;
}

/** An agent's brokered request through the server with the real CLI and `AILERON_TOKEN`. */
export function agentRequest(seed: Seeded, agentToken: string, url: string): Promise<CliResult> {
	return cli(['request', 'GET', url, '--credential', seed.credential], {
		configDir: seed.configDir,
		env: { AILERON_TOKEN: agentToken, AILERON_SERVER: stack().apiLoopback }
	});
}

/** An escrow sealed by the CLI and registered on the server under `name` (GET upstream/api/). */
export async function seedEscrow(seed: Seeded, name: string): Promise<void> {
	await cliOk(['escrow', 'put', '--server', stack().apiLoopback, '--name', name, '--allow', `GET ${seed.prefix}`,
		'--ttl', '1h'], { configDir: seed.configDir, stdin: `${seed.secret}\n` });
}

/** Fills a text field or chooses an option, whichever the field is. */
export async function setField(field: Locator, value: string): Promise<void> {
	const tag = await field.evaluate((el) => el.tagName);
	if (tag === 'SELECT') await field.selectOption(value);
	else await field.fill(value);
}

/** The main navigation's link `name`. */
export function navLink(page: Page, name: string): Locator {
	return page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });
}

/** The serious and critical accessibility violations axe-core finds on the page, one line each. */
export async function seriousViolations(page: Page, name: string): Promise<string[]> {
	// @axe-core/playwright brings its own playwright-core; the page is the same object at run time.
	const axePage = page as unknown as ConstructorParameters<typeof AxeBuilder>[0]['page'];
	const { violations } = await new AxeBuilder({ page: axePage }).analyze();
	return violations
		.filter((v) => v.impact === 'serious' || v.impact === 'critical')
		.map((v) => `${name}: ${v.id} (${v.impact}) ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}
